#include "kbz/failover/galera_node_kill.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <random>
#include <thread>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/failover/acked_writes.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;

using Node = GaleraNode;

std::vector<std::string> nodes_names(const std::vector<Node>& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes) out.push_back(n.host.hostname);
  return out;
}

}  // namespace

bool GaleraNode::synced_in_three() const {
  const auto s = status();
  return word_value(s, "state") == "Synced" && word_value(s, "cluster_status") == "Primary" &&
         word_value(s, "cluster_size") == "3";
}

std::string GaleraNode::status() const {
  auto r = run(std::string(kGaleraCli) + " status", Millis{20000});
  if (!r || r->exit_status != 0) return {};
  const auto l = lines_of(r->out);
  return l.empty() ? std::string{} : l.front();
}

std::string galera_output_tail(const Result<ExecResult>& r) {
  if (!r) return mask(r.error().message);
  return mask(tail_lines(r->out + "\n" + r->err, 4));
}

std::string galera_write_order(const std::vector<std::string>& nodes) {
  std::string out;
  for (const auto& n : nodes) out += (out.empty() ? "" : " → ") + n;
  return out;
}

std::string galera_write_script(const std::string& cli, const std::vector<std::string>& nodes,
                                const std::string& table) {
  std::string list;
  for (const auto& n : nodes) list += " " + shell_quote(n);
  return fmt::format(
      "for n in{0}; do\n"
      "  {1} app \"$n\" --connect-timeout=2 -e \"INSERT INTO {2} (id, node) VALUES ($1, '$n')\" && exit 0\n"
      "done\n"
      "exit 1\n",
      list, cli, table);
}

std::vector<std::pair<std::string, long>> parse_rows_by_node(const std::string& output) {
  std::vector<std::pair<std::string, long>> out;
  for (const auto& l : lines_of(output)) {
    const std::string line(trim(l, " \r"));
    const auto w = split(line, '\t');
    if (w.size() != 2 || w[0].empty() || w[1].empty()) continue;
    long n = 0;
    const auto [p, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), n);
    if (ec == std::errc() && p == w[1].data() + w[1].size() && n >= 0) out.emplace_back(std::string(w[0]), n);
  }
  return out;
}

FailoverResult run_galera_node_kill(VerifyContext& ctx) {
  FailoverResult res;
  res.scenario_id = ctx.scenario.id;
  res.title_fr = ctx.scenario.title_fr;
  res.status = CheckStatus::Fail;
  const int max_pause_s = std::stoi(ctx.scenario.param("max_pause_s", "30"));
  const int rejoin_timeout_s = std::stoi(ctx.scenario.param("rejoin_timeout_s", "300"));
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };

  std::vector<Node> nodes;
  for (const auto& h : ctx.hosts)
    if (h.subrole == "mariadb") {
      auto c = ctx.connect(h);
      if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
      nodes.push_back({h, *c});
    }
  if (nodes.size() < 3)
    return give_up(fmt::format("il faut les 3 nœuds Galera dans la sélection (trouvés : {})", nodes.size()));
  for (const auto& n : nodes)
    if (!n.synced_in_three())
      return give_up(fmt::format("{} n'est pas Synced dans un cluster de 3 avant le test : {}",
                                 n.host.hostname, n.status()));

  // The node written to is the one killed (ProxySQL's single writer in production). The client runs on
  // another node, sends each row to the written-to node and, when that one does not take it, to the next
  // node in order, as ProxySQL moves the writer hostgroup to a backup writer: writes must resume there.
  const Node& victim = nodes.front();
  const Node& client_node = nodes[1];
  res.measures.emplace_back("Nœud écrit puis arrêté brutalement (docker kill mariadb)",
                            fmt::format("{} ({})", victim.host.hostname, victim.host.private_ip));
  res.measures.emplace_back(
      "Client d'écriture",
      fmt::format("sur {} ; chaque ligne va à {}, sinon au nœud suivant ({})", client_node.host.hostname,
                  victim.host.hostname, galera_write_order(nodes_names(nodes))));
  // This scenario never goes through ProxySQL (it cannot run in the lab): say so instead of implying it.
  res.measures.emplace_back("Bascule de l'écrivain par ProxySQL (hostgroup 10 → 20)",
                            "non testé dans le lab : le client écrit directement sur les nœuds");
  if (auto m = client_node.run(std::string(kGaleraCli) + " sql -e 'SELECT @@wsrep_sst_method'");
      m && m->exit_status == 0)
    res.measures.emplace_back("Méthode SST en service", std::string(trim(m->out)));

  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffffULL);
  const std::string table = "erpnext.kbz_failover_" + run_id;
  const std::string app = fmt::format("{} app {}", kGaleraCli, shell_quote(client_node.host.hostname));
  if (auto t = client_node.run(fmt::format("{} -e {}", app,
                                           shell_quote("CREATE TABLE " + table +
                                                       " (id BIGINT PRIMARY KEY, node VARCHAR(64) NOT NULL, "
                                                       "at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)) "
                                                       "ENGINE=InnoDB")));
      !t || t->exit_status != 0)
    return give_up("table de test impossible à créer : " + galera_output_tail(t));
  const auto drop = [&] {
    client_node.run(fmt::format("{} -e {}", app, shell_quote("DROP TABLE IF EXISTS " + table)));
  };

  AckedWriterSpec spec;
  spec.run_id = run_id;
  spec.write = galera_write_script(kGaleraCli, nodes_names(nodes), table);
  spec.interval_ms = 100;
  spec.attempt_timeout_s = 10;  // up to 3 nodes tried, each with a 2 s connect timeout
  auto writer = AckedWriter::start(*client_node.conn, spec);
  if (!writer) {
    drop();
    return give_up(writer.error().message);
  }
  if (auto warm = writer->wait_acks(20, Millis{60000}); !warm) {
    (void)writer->stop();
    drop();
    return give_up(warm.error().message);
  }

  auto killed = hard_kill(*victim.conn, "mariadb");
  const auto start_victim = [&] { return victim.run("docker start mariadb >/dev/null", Millis{60000}); };
  if (!killed) {
    (void)writer->stop();
    start_victim();
    drop();
    return give_up(killed.error().message);
  }
  auto resumed = writer->wait_ack_started_after(*killed, Millis{std::max(60, 2 * max_pause_s) * 1000LL});
  std::this_thread::sleep_for(std::chrono::seconds(3));  // more commits while the node is gone: IST material

  // The killed node comes back by itself once started (its start script sees a Primary peer and joins).
  const auto t_start = Clock::now();
  auto started = start_victim();
  std::string rejoined = "non";
  if (started && started->exit_status == 0) {
    const auto until = t_start + std::chrono::seconds(rejoin_timeout_s);
    while (Clock::now() < until) {
      if (victim.synced_in_three()) {
        const auto secs = std::chrono::duration_cast<Millis>(Clock::now() - t_start);
        auto how = victim.run(
            "docker logs --tail 400 mariadb 2>&1 | grep -Ec 'IST received|Receiving IST' ; "
            "docker logs --tail 400 mariadb 2>&1 | grep -Ec 'SST received|State transfer "
            "required'",
            Millis{30000});
        std::string kind;
        if (how && how->exit_status == 0) {
          const auto l = lines_of(how->out);
          if (l.size() >= 2) kind = l[0] != "0" ? ", par IST" : l[1] != "0" ? ", par SST" : "";
        }
        rejoined = fmt::format("oui, Synced dans le cluster de 3 en {} après son redémarrage{}",
                               format_duration_fr(secs), kind);
        break;
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }
  res.measures.emplace_back("Nœud tué de retour", rejoined);
  auto attempts = writer->stop();
  if (!attempts) {
    drop();
    return give_up(attempts.error().message);
  }

  // Every acknowledged row, read back from every node (the rejoined one included).
  std::vector<std::string> why;
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
    const WriteTally t = count_back(*attempts, parse_ids(read->out), *killed);
    res.measures.emplace_back(fmt::format("Lignes acquittées relues sur {}", n.host.hostname),
                              fmt::format("{} / {}", t.acked - t.lost, t.acked));
    if (first || t.lost > worst.lost) worst = t;
    first = false;
  }
  // Which node took the rows (each row names the node it was sent to): writes must have gone on elsewhere.
  long elsewhere = 0;
  if (auto by = client_node.run(
          fmt::format("{} -e {}", app,
                      shell_quote("SELECT node, COUNT(*) FROM " + table + " GROUP BY node ORDER BY node")),
          Millis{60000});
      by && by->exit_status == 0) {
    std::string shown;
    for (const auto& [node, count] : parse_rows_by_node(by->out)) {
      shown += fmt::format("{}{} : {}", shown.empty() ? "" : ", ", node, count);
      if (node != victim.host.hostname) elsewhere += count;
    }
    res.measures.emplace_back("Lignes écrites par nœud", shown.empty() ? "aucune" : shown);
  } else {
    why.push_back("répartition des lignes par nœud illisible : " + galera_output_tail(by));
  }
  drop();
  add_write_measures(res, worst);
  if (elsewhere == 0)
    why.push_back(
        fmt::format("aucune ligne écrite sur un autre nœud que {} : les écritures n'ont pas repris ailleurs",
                    victim.host.hostname));

  if (!resumed || !*resumed)
    why.push_back(fmt::format("aucune écriture acquittée dans les {} s après l'arrêt brutal",
                              std::max(60, 2 * max_pause_s)));
  else if (worst.longest_gap_ms > max_pause_s * 1000LL)
    why.push_back(fmt::format("pause des écritures de {} (objectif ≤ {} s)",
                              format_duration_fr(Millis{worst.longest_gap_ms}), max_pause_s));
  if (worst.lost > 0)
    why.push_back(
        fmt::format("{} ligne(s) acquittée(s) perdue(s), ex. n° {}", worst.lost, worst.lost_ids.front()));
  if (rejoined == "non")
    why.push_back(fmt::format("{} n'est pas revenu Synced en {} s", victim.host.hostname, rejoin_timeout_s));
  res.status = why.empty() ? CheckStatus::Pass : CheckStatus::Fail;
  for (const auto& w : why) res.detail += (res.detail.empty() ? "" : " ; ") + w;
  if (why.empty())
    res.detail = fmt::format(
        "{} (le nœud écrit) tué (docker kill) sous écritures, reprise sur un autre nœud : plus longue pause "
        "{}, "
        "0 ligne acquittée perdue sur {} (relues sur les 3 nœuds), nœud revenu Synced",
        victim.host.hostname, format_duration_fr(Millis{worst.longest_gap_ms}), worst.acked);
  res.detail = mask(res.detail);
  return res;
}

}  // namespace kbz
