#include "kbz/failover/k8s_worker_loss.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/failover/k8s_control_plane_loss.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kHelper = "/usr/local/sbin/kbz-k8s";

struct Node {
  Host host;
  Connection* conn = nullptr;
  Result<ExecResult> run(const std::string& command, Millis timeout = Millis{60000}) const {
    return conn->run({command, {}, Privilege::Root, timeout});
  }
  bool ok(const std::string& command, Millis timeout = Millis{30000}) const {
    auto r = run(command, timeout);
    return r && r->exit_status == 0;
  }
  std::string out(const std::string& command, Millis timeout = Millis{30000}) const {
    auto r = run(command, timeout);
    return r ? r->out : std::string{};
  }
};

std::string since(Clock::time_point t0) {
  return format_duration_fr(std::chrono::duration_cast<Millis>(Clock::now() - t0));
}

std::vector<std::string> names_of(std::string_view list) {
  std::vector<std::string> out;
  if (list.empty()) return out;
  for (const auto& n : split(list, ',')) out.emplace_back(n);
  return out;
}

}  // namespace

bool SpreadPods::runs_on(const std::string& node) const {
  return std::find(ready_nodes.begin(), ready_nodes.end(), node) != ready_nodes.end();
}

bool SpreadPods::rescheduled_off(const std::string& lost, int replicas) const {
  return parsed && replicas > 0 && ready >= replicas && !runs_on(lost);
}

SpreadPods parse_spread_pods(std::string_view output) {
  static const std::regex kLine(R"(^pods=([0-9]+) ready=([0-9]+) terminating=([0-9]+) ready_nodes=(\S*)$)");
  SpreadPods p;
  for (const auto& raw : lines_of(output)) {
    const std::string l(trim(raw, " \t\r"));
    std::smatch m;
    if (!std::regex_match(l, m, kLine) || m[1].length() > 4 || m[2].length() > 4 || m[3].length() > 4)
      continue;
    p.pods = std::stoi(m[1].str());
    p.ready = std::stoi(m[2].str());
    p.terminating = std::stoi(m[3].str());
    p.ready_nodes = names_of(m[4].str());
    p.parsed = p.ready + p.terminating <= p.pods && static_cast<int>(p.ready_nodes.size()) == p.ready;
    return p;
  }
  return p;
}

bool NodesReady::is_ready(const std::string& node) const {
  return parsed && std::find(notready.begin(), notready.end(), node) == notready.end();
}

NodesReady parse_nodes_ready(std::string_view output) {
  static const std::regex kLine(R"(^nodes=([0-9]+) ready=([0-9]+) versions=\S* notready=(\S*)$)");
  NodesReady n;
  for (const auto& raw : lines_of(output)) {
    const std::string l(trim(raw, " \t\r"));
    std::smatch m;
    if (!std::regex_match(l, m, kLine) || m[1].length() > 4 || m[2].length() > 4) continue;
    n.nodes = std::stoi(m[1].str());
    n.ready = std::stoi(m[2].str());
    n.notready = names_of(m[3].str());
    n.parsed = n.ready <= n.nodes && n.ready + static_cast<int>(n.notready.size()) == n.nodes;
    return n;
  }
  return n;
}

HealthzRound parse_healthz_round(std::string_view output, const std::vector<std::string>& ips) {
  std::vector<std::string> ok;
  for (const auto& raw : lines_of(output)) {
    const std::string l(trim(raw, " \t\r"));
    const auto sp = l.find(' ');
    if (sp != std::string::npos && l.substr(sp + 1) == "ok") ok.push_back(l.substr(0, sp));
  }
  HealthzRound r;
  for (const auto& ip : ips) {
    if (std::find(ok.begin(), ok.end(), ip) != ok.end())
      ++r.answered;
    else
      r.failing.push_back(ip);
  }
  return r;
}

FailoverResult run_k8s_worker_loss(VerifyContext& ctx) {
  FailoverResult res;
  res.status = CheckStatus::Fail;
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };
  int outage_s = 120;
  try {
    outage_s = std::stoi(ctx.scenario.param("outage_s", "120"));
  } catch (...) {
  }
  std::vector<Node> masters, workers;
  for (const auto& h : ctx.hosts) {
    if (h.subrole != "master" && h.subrole != "worker") continue;
    auto c = ctx.connect(h);
    if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
    (h.subrole == "master" ? masters : workers).push_back({h, *c});
  }
  if (workers.size() < 2)
    return give_up(
        fmt::format("il faut au moins 2 workers dans la sélection (trouvés : {})", workers.size()));
  const Node* first = nullptr;
  for (const auto& m : masters)
    if (m.ok(std::string(kHelper) + " is-first")) first = &m;
  if (!first) return give_up("le control plane k8s.first_control_plane n'est pas dans la sélection");

  const std::string nodes_cmd = std::string(kHelper) + " nodes";
  const auto healthz_cmd = [&](const std::vector<std::string>& ips) {
    return fmt::format("{} healthz {}", kHelper, fmt::join(ips, " "));
  };
  std::vector<std::string> all_ips;
  for (const auto& w : workers) all_ips.push_back(w.host.private_ip);
  if (!parse_nodes_ready(first->out(nodes_cmd)).all_ready())
    return give_up("des nœuds ne sont pas Ready avant le test : état à corriger d'abord");
  const HealthzRound before = parse_healthz_round(first->out(healthz_cmd(all_ips)), all_ips);
  if (!before.all_answered())
    return give_up(fmt::format("ingress ne répond pas /healthz avant le test sur : {}",
                               fmt::join(before.failing, ", ")));

  // The workload whose pods must leave the lost worker: one pod per worker of the selection.
  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffULL);
  const int replicas = static_cast<int>(workers.size());
  const std::string pods_cmd = fmt::format("{} spread-pods {}", kHelper, run_id);
  const auto cleanup = [&] { first->run(fmt::format("{} spread-down {}", kHelper, run_id)); };  // best effort
  if (!first->ok(fmt::format("{} spread-up {} {}", kHelper, run_id, replicas), Millis{240000})) {
    cleanup();
    return give_up("la charge de test (kbz-failover-" + run_id + ") n'est pas prête en 180 s");
  }
  const SpreadPods placed = parse_spread_pods(first->out(pods_cmd));
  const Node* victim = nullptr;
  for (auto it = workers.rbegin(); it != workers.rend() && !victim; ++it)
    if (placed.runs_on(it->host.hostname)) victim = &*it;
  if (!victim) {
    cleanup();
    return give_up("aucun pod de la charge de test sur un worker de la sélection");
  }
  std::vector<std::string> others;
  for (const auto& w : workers)
    if (&w != victim) others.push_back(w.host.private_ip);
  res.measures.emplace_back("Worker arrêté", fmt::format("{} ({}), kubelet + pods + containerd arrêtés",
                                                         victim->host.hostname, victim->host.private_ip));
  res.measures.emplace_back(
      "Charge de test",
      fmt::format("{} pods busybox (kbz-failover-{}), répartis sur les workers", replicas, run_id));

  // Down: kubelet, the pods, containerd; its own ingress must stop answering (proof the node really is down).
  const auto t0 = Clock::now();
  if (!victim->ok(std::string(kHelper) + " worker-down", Millis{120000})) {
    victim->run(std::string(kHelper) + " worker-up");
    cleanup();
    return give_up(fmt::format("{} : arrêt de kubelet/containerd impossible", victim->host.hostname));
  }
  bool victim_down = false;
  for (int i = 0; i < 60 && !victim_down; ++i) {
    victim_down =
        !parse_healthz_round(first->out(healthz_cmd({victim->host.private_ip})), {victim->host.private_ip})
             .all_answered();
    if (!victim_down) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  res.measures.emplace_back("Ingress du worker arrêté",
                            victim_down ? "arrêté en " + since(t0) : "répond toujours");

  std::vector<std::pair<Millis, bool>> probes;
  std::vector<std::string> failed_on;
  std::string notready_after, rescheduled_after;
  const auto until = Clock::now() + std::chrono::seconds(outage_s);
  while (Clock::now() < until) {
    const auto at = std::chrono::duration_cast<Millis>(Clock::now() - t0);
    const HealthzRound round = parse_healthz_round(first->out(healthz_cmd(others), Millis{20000}), others);
    probes.emplace_back(at, round.all_answered());
    for (const auto& ip : round.failing)
      if (std::find(failed_on.begin(), failed_on.end(), ip) == failed_on.end()) failed_on.push_back(ip);
    if (probes.size() % 5 == 0) {  // the API's view every 5 rounds: the node NotReady, the pods elsewhere
      const NodesReady n = parse_nodes_ready(first->out(nodes_cmd));
      if (notready_after.empty() && n.parsed && !n.is_ready(victim->host.hostname))
        notready_after = since(t0);
      if (rescheduled_after.empty() &&
          parse_spread_pods(first->out(pods_cmd)).rescheduled_off(victim->host.hostname, replicas))
        rescheduled_after = since(t0);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const ApiProbeTally tally = tally_api_probes(probes, 5);
  res.measures.emplace_back(
      "Sondes /healthz (port 80) des autres workers pendant la panne",
      fmt::format("{}/{} tours tous répondus ({} workers)", tally.answered, tally.total, others.size()));
  res.measures.emplace_back("Plus longue interruption de l'ingress", format_duration_fr(tally.longest_gap));
  res.measures.emplace_back("Nœud NotReady vu par l'API",
                            notready_after.empty() ? "non" : "après " + notready_after);
  res.measures.emplace_back(fmt::format("Pods replanifiés ({} prêts hors du nœud arrêté)", replicas),
                            rescheduled_after.empty() ? "non" : "après " + rescheduled_after);

  // Back: containerd and kubelet start again; the node must be Ready and its ingress answer.
  const auto back_from = Clock::now();
  std::string rejoined = "non";
  if (victim->ok(std::string(kHelper) + " worker-up", Millis{120000})) {
    const auto limit = Clock::now() + std::chrono::seconds(300);
    while (Clock::now() < limit) {
      if (parse_nodes_ready(first->out(nodes_cmd)).all_ready() &&
          parse_healthz_round(first->out(healthz_cmd({victim->host.private_ip})), {victim->host.private_ip})
              .all_answered()) {
        rejoined = "oui, en " + since(back_from);
        break;
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }
  res.measures.emplace_back("Worker revenu (nœuds tous Ready, son ingress répond)", rejoined);
  cleanup();

  std::vector<std::string> why;
  if (!victim_down) why.push_back("l'ingress du worker arrêté répondait encore : panne non provoquée");
  if (tally.total == 0 || tally.answered < tally.total)
    why.push_back(
        fmt::format("ingress sans réponse pendant la panne sur : {}",
                    failed_on.empty() ? std::string("?") : fmt::format("{}", fmt::join(failed_on, ", "))));
  if (notready_after.empty()) why.push_back("le nœud arrêté n'est jamais passé NotReady");
  if (rescheduled_after.empty())
    why.push_back(fmt::format("pods non replanifiés hors du nœud arrêté en {} s", outage_s));
  if (rejoined == "non") why.push_back("le worker n'est pas revenu en 300 s");
  if (why.empty()) {
    res.status = CheckStatus::Pass;
  } else {
    res.detail = mask(fmt::format("{}", fmt::join(why, " ; ")));
  }
  return res;
}

}  // namespace kbz
