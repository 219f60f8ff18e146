#include "kbz/failover/rabbitmq_quorum_failover.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/failover/acked_writes.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kAmqp = "/usr/local/sbin/kbz-amqp";
constexpr const char* kCtl = "/usr/local/sbin/kbz-rabbitmqctl";

struct Node {
  Host host;
  Connection* conn = nullptr;
  Result<ExecResult> run(const std::string& command, std::string stdin_data = {},
                         Millis timeout = Millis{60000}) const {
    return conn->run({command, std::move(stdin_data), Privilege::Root, timeout});
  }
};

std::string tail(const Result<ExecResult>& r) {
  if (!r) return mask(r.error().message);
  auto text = r->out + r->err;
  if (text.size() > 300) text = text.substr(text.size() - 300);
  return mask(text);
}

std::vector<std::string> strings_of(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

std::optional<QuorumQueueState> quorum_queue_state(const std::string& json, const std::string& queue) {
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return std::nullopt;
  for (const auto& q : j) {
    if (!q.is_object() || q.value("name", "") != queue) continue;
    QuorumQueueState s;
    if (q.contains("leader") && q["leader"].is_string()) s.leader = q["leader"].get<std::string>();
    if (q.contains("members")) s.members = strings_of(q["members"]);
    if (q.contains("online")) s.online = strings_of(q["online"]);
    return s;
  }
  return std::nullopt;
}

std::string node_host(const std::string& node) {
  const auto at = node.find('@');
  return at == std::string::npos ? node : node.substr(at + 1);
}

std::vector<long> confirmed_ids(const std::string& output) {
  std::string oks;
  for (const auto& l : lines_of(output))
    if (l.starts_with("ok ")) oks += l.substr(3) + "\n";
  return parse_ids(oks);
}

FailoverResult run_rabbitmq_quorum_failover(VerifyContext& ctx) {
  FailoverResult res;
  res.scenario_id = ctx.scenario.id;
  res.title_fr = ctx.scenario.title_fr;
  res.status = CheckStatus::Fail;
  const long count = std::stol(ctx.scenario.param("messages", "1000"));
  const int max_failover_s = std::stoi(ctx.scenario.param("max_failover_s", "30"));
  const int rejoin_timeout_s = std::stoi(ctx.scenario.param("rejoin_timeout_s", "180"));
  const std::string vhost = ctx.scenario.param("vhost", "keybuzz");
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };

  std::vector<Node> nodes, lbs;
  for (const auto& h : ctx.hosts) {
    if (h.role != "queue" && h.subrole != "internal-haproxy") continue;
    auto c = ctx.connect(h);
    if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
    (h.role == "queue" ? nodes : lbs).push_back({h, *c});
  }
  if (nodes.size() < 3 || lbs.empty())
    return give_up(fmt::format("il faut 3 nœuds queue et 1 HAProxy dans la sélection (trouvés : {} et {})",
                               nodes.size(), lbs.size()));
  const Node& client = lbs.front();  // the HAProxy node runs the client: it is never the one killed
  const std::string lb = client.host.private_ip;
  res.measures.emplace_back("Client de test", fmt::format("{} via HAProxy {}", client.host.hostname, lb));

  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffffULL);
  const std::string queue = "kbz-failover-" + run_id;
  const auto state_of = [&](const Node& n) -> std::optional<QuorumQueueState> {
    auto r = n.run(fmt::format("{} ctl -q list_queues -p {} name leader members online --formatter json",
                               kCtl, shell_quote(vhost)),
                   {}, Millis{30000});
    if (!r || r->exit_status != 0) return std::nullopt;
    return quorum_queue_state(r->out, queue);
  };
  const auto cleanup = [&] {
    client.run(fmt::format("{} delete {} {}", kAmqp, shell_quote(lb), shell_quote(queue)));
  };

  // 1. The quorum queue (three members: the cluster is whole, verify checked it) and N confirmed messages.
  if (auto d = client.run(fmt::format("{} declare {} {}", kAmqp, shell_quote(lb), shell_quote(queue)));
      !d || d->exit_status != 0)
    return give_up("déclaration de la file quorum via HAProxy impossible : " + tail(d));
  auto pub =
      client.run(fmt::format("{} publish {} {} 1 {}", kAmqp, shell_quote(lb), shell_quote(queue), count), {},
                 Millis{300000});
  const auto confirmed = pub ? confirmed_ids(pub->out) : std::vector<long>{};
  res.measures.emplace_back("Messages publiés / confirmés avant l'arrêt",
                            fmt::format("{} / {}", count, confirmed.size()));
  if (confirmed.empty()) {
    cleanup();
    return give_up("aucun message confirmé via HAProxy avant l'arrêt : " + tail(pub));
  }
  const auto before = state_of(nodes.front());
  if (!before || before->leader.empty()) {
    cleanup();
    return give_up("leader de la file de test introuvable (list_queues)");
  }
  res.measures.emplace_back("Membres de la file avant l'arrêt", fmt::format("{}", before->members.size()));
  const std::string leader_host = node_host(before->leader);
  const auto victim =
      std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.host.hostname == leader_host; });
  if (victim == nodes.end()) {
    cleanup();
    return give_up(fmt::format("le leader {} n'est pas un nœud de la sélection", before->leader));
  }
  const Node* observer = &nodes.front();
  for (const auto& n : nodes)
    if (n.host.hostname != leader_host) {
      observer = &n;
      break;
    }
  res.measures.emplace_back("Nœud leader arrêté (docker kill)", leader_host);

  // 2. A publisher keeps going through HAProxy: ids count + 1, count + 2, ... each confirmed.
  AckedWriterSpec spec;
  spec.run_id = run_id;
  spec.attempt_timeout_s = 6;
  spec.write =
      fmt::format("n=$(( {} + $1 )); KBZ_AMQP_TIMEOUT=5 {} publish {} {} \"$n\" \"$n\" >/dev/null 2>&1\n",
                  count, kAmqp, shell_quote(lb), shell_quote(queue));
  auto writer = AckedWriter::start(*client.conn, spec);
  if (!writer) {
    cleanup();
    return give_up(writer.error().message);
  }
  if (auto warm = writer->wait_acks(10, Millis{60000}); !warm) {
    (void)writer->stop();
    cleanup();
    return give_up(warm.error().message);
  }

  // 3. Hard kill of the leader's broker; times from the kill.
  auto killed = hard_kill(*victim->conn, "rabbitmq");
  if (!killed) {
    (void)writer->stop();
    victim->run("docker start rabbitmq");
    cleanup();
    return give_up(killed.error().message);
  }
  const int deadline_s = std::max(60, 2 * max_failover_s);
  auto resumed = writer->wait_ack_started_after(*killed, Millis{deadline_s * 1000LL});
  std::string new_leader = "aucun";
  if (auto s = state_of(*observer); s && !s->leader.empty() && node_host(s->leader) != leader_host)
    new_leader = node_host(s->leader);
  res.measures.emplace_back("Nouveau leader de la file", new_leader);

  // 4. The killed node restarts; it must be running and the queue must have its three members online.
  const auto t_start = Clock::now();
  auto started = victim->run("docker start rabbitmq", {}, Millis{60000});
  std::string rejoined = "non";
  if (started && started->exit_status == 0) {
    const auto until = t_start + std::chrono::seconds(rejoin_timeout_s);
    while (Clock::now() < until) {
      auto s = state_of(*observer);
      if (s && s->online.size() == 3 && s->members.size() == 3) {
        const auto ms = std::chrono::duration_cast<Millis>(Clock::now() - t_start);
        rejoined = fmt::format("oui, en {} (file : 3 membres en ligne)", format_duration_fr(ms));
        break;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  res.measures.emplace_back("Nœud arrêté réintégré", rejoined);
  auto attempts = writer->stop();
  if (!attempts) {
    cleanup();
    return give_up(attempts.error().message);
  }

  // 5. Everything consumed back through HAProxy and counted.
  auto consumed = client.run(fmt::format("{} consume {} {}", kAmqp, shell_quote(lb), shell_quote(queue)), {},
                             Millis{300000});
  const auto bodies = consumed && consumed->exit_status == 0 ? parse_ids(consumed->out) : std::vector<long>{};
  std::map<long, int> seen;
  for (long id : bodies) ++seen[id];
  size_t lost_first = 0, dup_first = 0;
  std::optional<long> first_lost;
  for (long id : confirmed)
    if (!seen.contains(id)) {
      ++lost_first;
      if (!first_lost) first_lost = id;
    } else if (seen[id] > 1) {
      dup_first += static_cast<size_t>(seen[id] - 1);
    }
  res.measures.emplace_back("Messages confirmés perdus",
                            fmt::format("{} / {}", lost_first, confirmed.size()));
  std::vector<long> writer_present;
  for (long id : bodies)
    if (id > count) writer_present.push_back(id - count);
  const WriteTally tally = count_back(*attempts, writer_present, *killed);
  add_write_measures(res, tally);
  res.measures.emplace_back("Messages relus (total) / doublons avant l'arrêt",
                            fmt::format("{} / {}", bodies.size(), dup_first));
  cleanup();

  std::vector<std::string> why;
  if (!consumed || consumed->exit_status != 0)
    why.push_back("lecture de la file via HAProxy impossible : " + tail(consumed));
  if (!resumed || !*resumed)
    why.push_back(
        fmt::format("aucune publication confirmée via HAProxy en {} s après l'arrêt brutal", deadline_s));
  else if (**resumed - *killed > max_failover_s * 1000LL)
    why.push_back(fmt::format("publications confirmées de nouveau en {} (objectif ≤ {} s)",
                              format_duration_fr(Millis{**resumed - *killed}), max_failover_s));
  if (lost_first > 0)
    why.push_back(fmt::format("{} message(s) confirmé(s) perdu(s), ex. n° {}", lost_first, *first_lost));
  if (tally.lost > 0)
    why.push_back(fmt::format("{} publication(s) confirmée(s) perdue(s), ex. n° {}", tally.lost,
                              tally.lost_ids.front() + count));
  if (rejoined == "non")
    why.push_back(fmt::format("le nœud arrêté n'a pas retrouvé sa place (3 membres en ligne) en {} s",
                              rejoin_timeout_s));
  res.status = why.empty() ? CheckStatus::Pass : CheckStatus::Fail;
  for (const auto& w : why) res.detail += (res.detail.empty() ? "" : " ; ") + w;
  if (why.empty())
    res.detail = fmt::format(
        "leader {} arrêté brutalement (docker kill), nouveau leader {}, publications confirmées de nouveau "
        "via "
        "HAProxy en {}, 0 message confirmé perdu sur {}",
        leader_host, new_leader, format_duration_fr(Millis{**resumed - *killed}),
        tally.acked + confirmed.size());
  res.detail = mask(res.detail);
  return res;
}

}  // namespace kbz
