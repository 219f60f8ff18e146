#include "kbz/failover/galera_rolling_restart.hpp"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <random>
#include <thread>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/failover/acked_writes.hpp"
#include "kbz/failover/galera_node_kill.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kTune = "/usr/local/sbin/kbz-galera-tune";
constexpr const char* kGaleraClient = "/usr/local/sbin/kbz-db-client";

using Node = GaleraNode;

}  // namespace

std::vector<size_t> rolling_restart_order(const std::vector<bool>& is_writer) {
  std::vector<size_t> order;
  for (bool writers : {false, true})
    for (size_t i = 0; i < is_writer.size(); ++i)
      if (is_writer[i] == writers) order.push_back(i);
  return order;
}

FailoverResult run_galera_rolling_restart(VerifyContext& ctx) {
  FailoverResult res;
  res.scenario_id = ctx.scenario.id;
  res.title_fr = ctx.scenario.title_fr;
  res.status = CheckStatus::Fail;
  const int max_pause_s = std::stoi(ctx.scenario.param("max_pause_s", "10"));
  const int node_timeout_s = std::stoi(ctx.scenario.param("node_timeout_s", "900"));
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };

  std::vector<Node> nodes;
  std::optional<Node> client;
  for (const auto& h : ctx.hosts) {
    if (h.subrole != "mariadb" && !(h.subrole == "proxysql" && !client)) continue;
    auto c = ctx.connect(h);
    if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
    if (h.subrole == "mariadb")
      nodes.push_back({h, *c});
    else
      client = Node{h, *c};
  }
  if (nodes.size() < 3)
    return give_up(fmt::format("il faut les 3 nœuds Galera dans la sélection (trouvés : {})", nodes.size()));
  if (!client) return give_up("il faut un nœud ProxySQL dans la sélection (le client des écritures)");
  for (const auto& n : nodes)
    if (!n.synced_in_three())
      return give_up(fmt::format("{} n'est pas Synced dans un cluster de 3 avant le test : {}",
                                 n.host.hostname, n.status()));

  // The order the engine's rolled step uses: not-writer nodes first (inventory order), the writer last.
  std::vector<bool> writer;
  for (const auto& n : nodes) {
    auto w = n.run(std::string(kTune) + " is-writer", Millis{20000});
    if (!w)
      return give_up(fmt::format("{} : is-writer impossible : {}", n.host.hostname, galera_output_tail(w)));
    writer.push_back(w->exit_status == 0);
  }
  const auto order = rolling_restart_order(writer);
  std::string order_text;
  for (size_t i : order)
    order_text +=
        (order_text.empty() ? "" : " → ") + nodes[i].host.hostname + (writer[i] ? " (écrivain)" : "");
  res.measures.emplace_back("Ordre des redémarrages", order_text);
  res.measures.emplace_back(
      "Client des écritures",
      fmt::format("{} ({}), par kbz-db-client", client->host.hostname, client->host.private_ip));

  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffffULL);
  const std::string table = "erpnext.kbz_rolling_" + run_id;
  const std::string sql = std::string(kGaleraClient) + " sql";
  if (auto t = client->run(fmt::format("{} -e {}", sql,
                                       shell_quote("CREATE TABLE " + table +
                                                   " (id BIGINT PRIMARY KEY, at TIMESTAMP(3) DEFAULT "
                                                   "CURRENT_TIMESTAMP(3)) ENGINE=InnoDB")));
      !t || t->exit_status != 0)
    return give_up("table de test impossible à créer : " + galera_output_tail(t));
  const auto drop = [&] {
    client->run(fmt::format("{} -e {}", sql, shell_quote("DROP TABLE IF EXISTS " + table)));
  };

  AckedWriterSpec spec;
  spec.run_id = run_id;
  spec.write = fmt::format("{} -e \"INSERT INTO {} (id) VALUES ($1)\"\n", sql, table);
  spec.interval_ms = 100;
  auto w = AckedWriter::start(*client->conn, spec);
  if (!w) {
    drop();
    return give_up(w.error().message);
  }
  if (auto warm = w->wait_acks(20, Millis{60000}); !warm) {
    (void)w->stop();
    drop();
    return give_up(warm.error().message);
  }

  // The first restart's start on the client's clock: the "event" the counting measures from.
  long long first_ms = 0;
  std::vector<std::string> why;
  for (size_t i : order) {
    const Node& n = nodes[i];
    if (first_ms == 0) {
      auto now = client->run("date +%s%3N", Millis{20000});
      if (now && now->exit_status == 0) first_ms = std::stoll(std::string(trim(now->out)));
    }
    const auto t0 = Clock::now();
    auto r = n.run(std::string(kTune) + " restart", Millis{(node_timeout_s + 180) * 1000LL});
    const auto took = std::chrono::duration_cast<Millis>(Clock::now() - t0);
    if (!r || r->exit_status != 0) {
      why.push_back(fmt::format("redémarrage de {} en échec : {}", n.host.hostname, galera_output_tail(r)));
      break;  // never the next one with a node not back
    }
    res.measures.emplace_back(fmt::format("{} redémarré et de retour Synced (3 nœuds)", n.host.hostname),
                              format_duration_fr(took));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a few acknowledged writes after the last one
  auto attempts = w->stop();
  if (!attempts) {
    drop();
    return give_up(attempts.error().message);
  }

  WriteTally worst;
  bool first = true;
  for (const auto& n : nodes) {
    auto read = n.run(fmt::format("{} app {} -e {}", kGaleraCli, shell_quote(n.host.hostname),
                                  shell_quote("SELECT id FROM " + table)),
                      Millis{120000});
    if (!read || read->exit_status != 0) {
      why.push_back(
          fmt::format("relecture impossible sur {} : {}", n.host.hostname, galera_output_tail(read)));
      continue;
    }
    const WriteTally t = count_back(*attempts, parse_ids(read->out), first_ms);
    res.measures.emplace_back(fmt::format("Lignes acquittées relues sur {}", n.host.hostname),
                              fmt::format("{} / {}", t.acked - t.lost, t.acked));
    if (first || t.lost > worst.lost) worst = t;
    first = false;
  }
  drop();
  add_write_measures(res, worst);

  if (worst.longest_gap_ms > max_pause_s * 1000LL)
    why.push_back(fmt::format("pause des écritures acquittées de {} (objectif ≤ {} s)",
                              format_duration_fr(Millis{worst.longest_gap_ms}), max_pause_s));
  if (worst.lost > 0)
    why.push_back(
        fmt::format("{} ligne(s) acquittée(s) perdue(s), ex. n° {}", worst.lost, worst.lost_ids.front()));
  if (worst.acked == 0) why.push_back("aucune écriture acquittée");
  res.status = why.empty() ? CheckStatus::Pass : CheckStatus::Fail;
  for (const auto& x : why) res.detail += (res.detail.empty() ? "" : " ; ") + x;
  if (why.empty())
    res.detail = fmt::format(
        "3 nœuds redémarrés un à un ({}) sous écritures : plus longue pause {}, 0 ligne acquittée perdue sur "
        "{} "
        "(relues sur les 3 nœuds)",
        order_text, format_duration_fr(Millis{worst.longest_gap_ms}), worst.acked);
  res.detail = mask(res.detail);
  return res;
}

}  // namespace kbz
