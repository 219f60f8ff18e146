#include "kbz/failover/patroni_failover.hpp"

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
constexpr const char* kCli = "/usr/local/sbin/kbz-pg-cli";

std::string seconds(Millis ms) { return format_duration_fr(ms); }

struct Node {
  Host host;
  Connection* conn = nullptr;
  Result<ExecResult> run(const std::string& command, std::string stdin_data = {},
                         Millis timeout = Millis{60000}) const {
    return conn->run({command, std::move(stdin_data), Privilege::Root, timeout});
  }
  bool ok(const std::string& command, Millis timeout = Millis{30000}) const {
    auto r = run(command, {}, timeout);
    return r && r->exit_status == 0;
  }
  std::string first_line_of(const std::string& command) const {
    auto r = run(command, {}, Millis{30000});
    if (!r || r->exit_status != 0) return {};
    const auto l = lines_of(r->out);
    return l.empty() ? std::string{} : l.front();
  }
  std::optional<long long> now_ms() const {
    const auto t = first_line_of("date +%s%3N");
    if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoll(t);
  }
};

std::string tail(const Result<ExecResult>& r) {
  if (!r) return mask(r.error().message);
  auto text = r->out + r->err;
  if (text.size() > 300) text = text.substr(text.size() - 300);
  return mask(text);
}

// Polls `check` on `node` every second until it passes; elapsed time, or nullopt after `limit`.
std::optional<Millis> poll(const Node& node, const std::string& check, std::chrono::seconds limit) {
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < limit) {
    if (node.ok(check)) return std::chrono::duration_cast<Millis>(Clock::now() - t0);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return std::nullopt;
}

}  // namespace

FailoverResult run_patroni_failover(VerifyContext& ctx) {
  FailoverResult res;
  res.scenario_id = ctx.scenario.id;
  res.title_fr = ctx.scenario.title_fr;
  res.status = CheckStatus::Fail;
  const int max_failover_s = std::stoi(ctx.scenario.param("max_failover_s", "45"));
  const int max_switchover_s = std::stoi(ctx.scenario.param("max_switchover_s", "15"));
  const std::string db = ctx.scenario.param("database", "keybuzz");
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };

  std::vector<Node> nodes;
  std::vector<Host> lbs;
  for (const auto& h : ctx.hosts) {
    if (h.role == "db") {
      auto c = ctx.connect(h);
      if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
      nodes.push_back({h, *c});
    } else if (h.subrole == "internal-haproxy") {
      lbs.push_back(h);
    }
  }
  if (nodes.size() < 3 || lbs.empty())
    return give_up(fmt::format(
        "il faut les 3 nœuds Patroni et au moins 1 HAProxy dans la sélection (trouvés : {} et {})",
        nodes.size(), lbs.size()));
  const auto find = [&](const std::string& name) -> const Node* {
    for (const auto& n : nodes)
      if (n.host.hostname == name) return &n;
    return nullptr;
  };
  const auto cluster_from = [&](const Node& n) { return n.first_line_of(std::string(kCli) + " cluster"); };

  // The cluster must be whole before anything breaks.
  if (!poll(nodes[0], std::string(kCli) + " converged", std::chrono::seconds(120)))
    return give_up("cluster non convergé avant le test : " + cluster_from(nodes[0]));
  const std::string before = cluster_from(nodes[0]);
  const Node* leader = find(word_value(before, "leader"));
  if (!leader) return give_up("aucun leader Patroni avant le test : " + before);
  const Node* client = find(word_value(before, "sync"));  // a standby that stays up runs psql
  if (!client) client = leader == &nodes[0] ? &nodes[1] : &nodes[0];
  const Host& lb = lbs.front();
  res.measures.emplace_back("Ancien leader",
                            fmt::format("{} ({})", leader->host.hostname, leader->host.private_ip));
  res.measures.emplace_back("Client de test",
                            fmt::format("{} via HAProxy {}:5432", client->host.hostname, lb.hostname));

  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffffULL);
  const std::string table = "kbz_failover_" + run_id;
  const std::string at_lb =
      fmt::format("{} at {} 5432 {}", kCli, shell_quote(lb.private_ip), shell_quote(db));
  if (auto t = client->run(at_lb, fmt::format("CREATE TABLE {} (id bigint PRIMARY KEY, phase text)", table));
      !t || t->exit_status != 0)
    return give_up("création de la table de test via HAProxy impossible : " + tail(t));
  const auto drop = [&] { client->run(at_lb, fmt::format("DROP TABLE IF EXISTS {}", table)); };

  // One write = one INSERT in autocommit: psql exits 0 only once COMMIT returned (synchronous standby has
  // it).
  const auto writer_spec = [&](const std::string& id, const std::string& phase) {
    AckedWriterSpec spec;
    spec.run_id = id;
    spec.write = fmt::format(
        "echo \"INSERT INTO {} (id, phase) VALUES ($1, '{}')\" | PGCONNECT_TIMEOUT=3 {} >/dev/null 2>&1\n",
        table, phase, at_lb);
    spec.interval_ms = 100;
    spec.attempt_timeout_s = 10;
    return spec;
  };
  const auto read_back = [&](const std::string& phase) -> std::vector<long> {
    auto r = client->run(at_lb, fmt::format("SELECT id FROM {} WHERE phase = '{}' ORDER BY id", table, phase),
                         Millis{120000});
    return r && r->exit_status == 0 ? parse_ids(r->out) : std::vector<long>{};
  };

  // 1. Hard kill of the leader under the writer.
  auto writer = AckedWriter::start(*client->conn, writer_spec(run_id + "k", "kill"));
  if (!writer) {
    drop();
    return give_up(writer.error().message);
  }
  if (auto warm = writer->wait_acks(10, Millis{90000}); !warm) {
    (void)writer->stop();
    drop();
    return give_up(warm.error().message);
  }
  auto killed = hard_kill(*leader->conn, "patroni");
  if (!killed) {
    (void)writer->stop();
    leader->run("docker start patroni");
    drop();
    return give_up(killed.error().message);
  }
  const int deadline_s = std::max(90, 2 * max_failover_s);
  auto resumed = writer->wait_ack_started_after(*killed, Millis{deadline_s * 1000LL});
  const std::string after_kill = cluster_from(*client);
  const std::string new_leader = word_value(after_kill, "leader");
  res.measures.emplace_back("Nouveau leader (Patroni)", new_leader.empty() ? "aucun" : new_leader);

  // 2. The old leader's container starts again: it must come back as a streaming replica.
  std::string rejoined = "non";
  const auto started_ms = leader->now_ms();
  if (leader->ok("docker start patroni", Millis{60000})) {
    if (auto t = poll(*leader, std::string(kCli) + " member-ready", std::chrono::seconds(180))) {
      const bool rewound =
          leader->ok("docker logs --since 5m patroni 2>&1 | grep -qi 'rewind'", Millis{30000});
      rejoined = fmt::format("oui, réplique en {}{}", seconds(*t), rewound ? " (pg_rewind)" : "");
    }
  }
  (void)started_ms;
  res.measures.emplace_back("Ancien leader réintégré", rejoined);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto attempts = writer->stop();
  if (!attempts) {
    drop();
    return give_up(attempts.error().message);
  }
  const WriteTally tally = count_back(*attempts, read_back("kill"), *killed);
  add_write_measures(res, tally);
  res.measures.emplace_back(
      "Écriture via HAProxy sur le nouveau leader",
      resumed && *resumed ? seconds(Millis{**resumed - *killed}) : fmt::format("pas en {} s", deadline_s));

  // 3. Planned switchover (patronictl) under a new writer, once the cluster is whole again.
  std::optional<WriteTally> sw;
  std::string sw_to;
  std::string sw_problem;
  if (!poll(*client, std::string(kCli) + " converged", std::chrono::seconds(180))) {
    sw_problem = "cluster non reconverge avant le switchover : " + cluster_from(*client);
  } else {
    const Node* current = find(word_value(cluster_from(*client), "leader"));
    auto w2 = AckedWriter::start(*client->conn, writer_spec(run_id + "s", "switchover"));
    if (!current || !w2) {
      sw_problem = !current ? "aucun leader avant le switchover" : w2.error().message;
    } else if (auto warm = w2->wait_acks(10, Millis{90000}); !warm) {
      (void)w2->stop();
      sw_problem = warm.error().message;
    } else {
      const auto t_sw = client->now_ms();
      auto r = current->run(std::string(kCli) + " switchover-away", {}, Millis{180000});
      if (!r || r->exit_status != 0) sw_problem = "switchover : " + tail(r);
      sw_to = word_value(cluster_from(*client), "leader");
      std::this_thread::sleep_for(std::chrono::seconds(3));
      auto a2 = w2->stop();
      if (!a2 || !t_sw) {
        sw_problem = a2 ? "horloge du client illisible" : a2.error().message;
      } else {
        sw = count_back(*a2, read_back("switchover"), *t_sw);
        res.measures.emplace_back("Switchover (patronictl)", fmt::format("{} → {}", current->host.hostname,
                                                                         sw_to.empty() ? "?" : sw_to));
        res.measures.emplace_back("Pause des écritures acquittées pendant le switchover",
                                  seconds(Millis{sw->longest_gap_ms}));
        res.measures.emplace_back(
            "Écritures acquittées perdues (switchover)",
            sw->lost == 0 ? fmt::format("0 / {}", sw->acked) : fmt::format("{} / {}", sw->lost, sw->acked));
      }
    }
  }
  // Whole again before the report (a re-apply and a verify after the test must find a converged cluster).
  const bool whole = poll(*client, std::string(kCli) + " converged", std::chrono::seconds(180)).has_value();
  res.measures.emplace_back("Cluster après le test", cluster_from(*client));
  drop();

  std::vector<std::string> why;
  if (!resumed || !*resumed)
    why.push_back(fmt::format("aucun COMMIT acquitté via HAProxy en {} s après l'arrêt brutal", deadline_s));
  else if (**resumed - *killed > max_failover_s * 1000LL)
    why.push_back(fmt::format("écritures reprises en {} (objectif ≤ {} s)",
                              seconds(Millis{**resumed - *killed}), max_failover_s));
  if (tally.lost > 0)
    why.push_back(
        fmt::format("{} ligne(s) acquittée(s) perdue(s), ex. n° {}", tally.lost, tally.lost_ids.front()));
  if (tally.acked == 0) why.push_back("aucune écriture acquittée");
  if (rejoined == "non") why.push_back("l'ancien leader n'est pas revenu comme réplique en 180 s");
  if (!sw_problem.empty()) why.push_back(sw_problem);
  if (sw && sw->lost > 0)
    why.push_back(fmt::format("{} ligne(s) acquittée(s) perdue(s) au switchover", sw->lost));
  if (sw && sw->longest_gap_ms > max_switchover_s * 1000LL)
    why.push_back(fmt::format("pause de {} au switchover (objectif ≤ {} s)",
                              seconds(Millis{sw->longest_gap_ms}), max_switchover_s));
  if (!whole) why.push_back("cluster non reconverge après le test");
  res.status = why.empty() ? CheckStatus::Pass : CheckStatus::Fail;
  for (const auto& w : why) res.detail += (res.detail.empty() ? "" : " ; ") + w;
  if (why.empty())
    res.detail = fmt::format(
        "nouveau leader {} écrit via HAProxy {} après l'arrêt brutal (docker kill), 0 ligne acquittée perdue "
        "sur "
        "{} ; switchover vers {} : pause {}, 0 perdue sur {}",
        new_leader, seconds(Millis{**resumed - *killed}), tally.acked, sw_to,
        seconds(Millis{sw->longest_gap_ms}), sw->acked);
  res.detail = mask(res.detail);
  return res;
}

}  // namespace kbz
