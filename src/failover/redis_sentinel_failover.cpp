#include "kbz/failover/redis_sentinel_failover.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <random>
#include <thread>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/failover/acked_writes.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kCli = "/usr/local/sbin/kbz-redis-cli";

// The report is French: "7,9 s", like every other duration in it.
std::string seconds(Millis ms) { return format_duration_fr(ms); }

// One host, one command; the result text is masked before it can reach a message.
struct Node {
  Host host;
  Connection* conn = nullptr;
  Result<ExecResult> run(const std::string& command, std::string stdin_data = {},
                         Millis timeout = Millis{60000}) const {
    return conn->run({command, std::move(stdin_data), Privilege::Root, timeout});
  }
  std::string status() const {
    auto r = run(std::string(kCli) + " status", {}, Millis{20000});
    return r && r->exit_status == 0 ? lines_of(r->out).empty() ? "" : lines_of(r->out)[0] : "";
  }
};

std::string tail(const Result<ExecResult>& r) {
  if (!r) return mask(r.error().message);
  auto text = r->out + r->err;
  if (text.size() > 300) text = text.substr(text.size() - 300);
  return mask(text);
}

}  // namespace

// redis-cli prints an error reply followed by an empty line: replies are told apart by an ECHO marker after
// each key's commands, never by counting lines.
std::vector<std::vector<std::string>> reply_blocks(const std::string& output, size_t count) {
  std::vector<std::vector<std::string>> blocks(count);
  size_t current = 0;
  for (const auto& l : lines_of(output)) {
    if (current >= count) break;
    if (l == fmt::format("kbz-sep-{}", current)) {
      ++current;
      continue;
    }
    blocks[current].push_back(l);
  }
  blocks.resize(current);  // a block without its marker is incomplete (connection lost): not counted
  return blocks;
}

std::string waited_writes_script(const std::vector<std::string>& keys, const std::vector<std::string>& values,
                                 int timeout_ms) {
  std::string s;
  for (size_t i = 0; i < keys.size(); ++i)
    s += fmt::format("SET {} {}\nWAIT 1 {}\nECHO kbz-sep-{}\n", keys[i], values[i], timeout_ms, i);
  return s;
}

std::string reads_script(const std::vector<std::string>& keys) {
  std::string s;
  for (size_t i = 0; i < keys.size(); ++i) s += fmt::format("GET {}\nECHO kbz-sep-{}\n", keys[i], i);
  return s;
}

std::vector<std::string> confirmed_keys(const std::string& output, const std::vector<std::string>& keys) {
  const auto blocks = reply_blocks(output, keys.size());
  std::vector<std::string> out;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto& b = blocks[i];
    if (b.size() != 2 || b[0] != "OK" || b[1].empty() ||
        b[1].find_first_not_of("0123456789") != std::string::npos)
      continue;
    if (std::stoi(b[1]) >= 1) out.push_back(keys[i]);
  }
  return out;
}

std::vector<std::string> missing_keys(const std::string& output, const std::vector<std::string>& keys,
                                      const std::vector<std::string>& values) {
  const auto blocks = reply_blocks(output, keys.size());
  std::vector<std::string> out;
  for (size_t i = 0; i < keys.size(); ++i)
    if (i >= blocks.size() || blocks[i].size() != 1 || blocks[i][0] != values[i]) out.push_back(keys[i]);
  return out;
}

FailoverResult run_redis_sentinel_failover(VerifyContext& ctx) {
  FailoverResult res;
  res.scenario_id = ctx.scenario.id;
  res.title_fr = ctx.scenario.title_fr;
  res.status = CheckStatus::Fail;
  const int key_count = std::stoi(ctx.scenario.param("keys", "200"));
  const int max_failover_s = std::stoi(ctx.scenario.param("max_failover_s", "30"));
  const std::string master_name = ctx.scenario.param("master_name", "kb-redis-master");
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };

  // The nodes of this run: Redis (ROLE redis) and the HAProxy write endpoints (SUBROLE internal-haproxy).
  std::vector<Node> redis;
  std::vector<Host> lbs;
  for (const auto& h : ctx.hosts) {
    if (h.role == "redis") {
      auto c = ctx.connect(h);
      if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
      redis.push_back({h, *c});
    } else if (h.subrole == "internal-haproxy") {
      lbs.push_back(h);
    }
  }
  if (redis.size() < 2 || lbs.empty())
    return give_up(
        fmt::format("il faut au moins 2 nœuds redis et 1 HAProxy dans la sélection (trouvés : {} et {})",
                    redis.size(), lbs.size()));

  // Who is master now (the inventory's SUBROLE is only the bootstrap master).
  std::optional<size_t> master;
  for (size_t i = 0; i < redis.size(); ++i)
    if (word_value(redis[i].status(), "role") == "master") {
      if (master) return give_up("deux nœuds se déclarent maîtres avant le test : état à corriger d'abord");
      master = i;
    }
  if (!master) return give_up("aucun nœud redis ne se déclare maître avant le test");
  const Node& old_master = redis[*master];
  const Node& client = redis[(*master + 1) % redis.size()];  // a replica stays up and runs redis-cli
  const std::string lb = lbs.front().hostname;
  res.measures.emplace_back("Ancien maître",
                            fmt::format("{} ({})", old_master.host.hostname, old_master.host.private_ip));
  res.measures.emplace_back("Client de test", fmt::format("{} via HAProxy {}", client.host.hostname, lb));

  // 1. Known keys through HAProxy, each confirmed on a replica with WAIT, before anything breaks.
  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffffULL);
  std::vector<std::string> keys, values;
  for (int i = 0; i < key_count; ++i) {
    keys.push_back(fmt::format("kbz:failover:{}:{}", run_id, i));
    values.push_back(fmt::format("v{}-{}", i, run_id));
  }
  const std::string lb_cli = fmt::format("{} lb {}", kCli, shell_quote(lb));
  auto wrote = client.run(lb_cli, waited_writes_script(keys, values, 1000), Millis{120000});
  if (!wrote || wrote->exit_status != 0)
    return give_up("écriture des clés de test via HAProxy impossible : " + tail(wrote));
  const auto confirmed = confirmed_keys(wrote->out, keys);
  res.measures.emplace_back("Clés écrites / confirmées (WAIT 1)",
                            fmt::format("{} / {}", keys.size(), confirmed.size()));
  if (confirmed.empty()) return give_up("aucune écriture confirmée par une réplique avant la bascule");

  // 2. A client keeps writing through HAProxy, each write acknowledged only once a replica has it (WAIT 1).
  const std::string writer_key = fmt::format("kbz:failover:{}:w", run_id);
  AckedWriterSpec spec;
  spec.run_id = run_id;
  spec.write = fmt::format(
      "printf 'SET {0}%s %s\\nWAIT 1 1000\\n' \"$1\" \"$1\" | {1} | tr -d '\\r' | tr '\\n' ' ' | "
      "grep -Eq '^OK [1-9]'\n",
      writer_key, lb_cli);
  auto writer = AckedWriter::start(*client.conn, spec);
  if (!writer) return give_up(writer.error().message);
  if (auto warm = writer->wait_acks(10, Millis{60000}); !warm) {
    (void)writer->stop();
    return give_up(warm.error().message);
  }

  // 3. Hard kill of the master's Redis (SIGKILL: no shutdown, no last AOF flush), times from the kill.
  auto killed = hard_kill(*old_master.conn, "redis");
  const auto restart_old = [&] { return old_master.run("docker start redis", {}, Millis{60000}); };
  if (!killed) {
    (void)writer->stop();
    restart_old();
    return give_up(killed.error().message);
  }
  const int deadline_s = std::max(60, 2 * max_failover_s);
  auto resumed = writer->wait_ack_started_after(*killed, Millis{deadline_s * 1000LL});
  std::string new_master;
  if (auto m = client.run(
          fmt::format("{} sentinel SENTINEL get-master-addr-by-name {}", kCli, shell_quote(master_name)));
      m && m->exit_status == 0 && !lines_of(m->out).empty())
    new_master = lines_of(m->out).front();
  res.measures.emplace_back(
      "Nouveau maître (Sentinel)",
      new_master.empty() || new_master == old_master.host.private_ip ? "aucun" : new_master);

  // 4. The old master comes back and must rejoin as a replica of the new master; the writer goes on
  // meanwhile.
  auto started = restart_old();
  std::string rejoined = "non";
  if (started && started->exit_status == 0) {
    const auto until = Clock::now() + std::chrono::seconds(90);
    while (Clock::now() < until) {
      const auto st = old_master.status();
      if (word_value(st, "role") == "slave" && word_value(st, "master_link_status") == "up") {
        rejoined = fmt::format("oui, réplique de {}", word_value(st, "master_host"));
        break;
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }
  res.measures.emplace_back("Ancien maître réintégré", rejoined);
  auto attempts = writer->stop();
  if (!attempts) return give_up(attempts.error().message);

  // 5. Every confirmed key and every acknowledged write must be readable through HAProxy.
  std::vector<std::string> want_values;
  for (const auto& k : confirmed) want_values.push_back(values[std::stoul(k.substr(k.rfind(':') + 1))]);
  auto read = client.run(lb_cli, reads_script(confirmed), Millis{120000});
  std::vector<std::string> lost = confirmed;
  if (read && read->exit_status == 0) lost = missing_keys(read->out, confirmed, want_values);
  res.measures.emplace_back("Clés confirmées perdues", fmt::format("{} / {}", lost.size(), confirmed.size()));
  std::vector<std::string> acked_keys, acked_values;
  std::vector<long> acked_ids;
  for (const auto& a : *attempts)
    if (a.acked) {
      acked_keys.push_back(writer_key + std::to_string(a.id));
      acked_values.push_back(std::to_string(a.id));
      acked_ids.push_back(a.id);
    }
  auto reread = client.run(lb_cli, reads_script(acked_keys), Millis{120000});
  std::vector<long> present;
  if (reread && reread->exit_status == 0) {
    const auto missing = missing_keys(reread->out, acked_keys, acked_values);
    for (size_t i = 0; i < acked_keys.size(); ++i)
      if (std::find(missing.begin(), missing.end(), acked_keys[i]) == missing.end())
        present.push_back(acked_ids[i]);
  }
  const WriteTally tally = count_back(*attempts, present, *killed);
  add_write_measures(res, tally);
  if (resumed && *resumed)
    res.measures.emplace_back("Écriture via HAProxy sur le nouveau maître",
                              seconds(Millis{**resumed - *killed}));
  else
    res.measures.emplace_back("Écriture via HAProxy sur le nouveau maître",
                              fmt::format("pas en {} s", deadline_s));

  // Clean up the test keys (best effort: they carry a unique run id).
  std::string dels;
  for (const auto& k : keys) dels += "DEL " + k + "\n";
  for (const auto& k : acked_keys) dels += "DEL " + k + "\n";
  client.run(lb_cli, dels, Millis{120000});

  std::vector<std::string> why;
  if (!resumed || !*resumed)
    why.push_back(
        fmt::format("aucune écriture acquittée via HAProxy en {} s après l'arrêt brutal", deadline_s));
  else if (**resumed - *killed > max_failover_s * 1000LL)
    why.push_back(fmt::format("écritures reprises en {} (objectif ≤ {} s)",
                              seconds(Millis{**resumed - *killed}), max_failover_s));
  if (!lost.empty())
    why.push_back(fmt::format("{} clé(s) confirmée(s) perdue(s), ex. {}", lost.size(), lost.front()));
  if (tally.lost > 0)
    why.push_back(
        fmt::format("{} écriture(s) acquittée(s) perdue(s), ex. n° {}", tally.lost, tally.lost_ids.front()));
  if (rejoined == "non") why.push_back("l'ancien maître n'est pas revenu comme réplique en 90 s");
  res.status = why.empty() ? CheckStatus::Pass : CheckStatus::Fail;
  for (const auto& w : why) res.detail += (res.detail.empty() ? "" : " ; ") + w;
  if (why.empty())
    res.detail = fmt::format(
        "nouveau maître {} écrit via HAProxy {} après l'arrêt brutal (docker kill), 0 écriture acquittée "
        "perdue sur {}",
        new_master, seconds(Millis{**resumed - *killed}), tally.acked + confirmed.size());
  res.detail = mask(res.detail);
  return res;
}

}  // namespace kbz
