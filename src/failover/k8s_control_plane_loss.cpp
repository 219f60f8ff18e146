#include "kbz/failover/k8s_control_plane_loss.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
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

}  // namespace

EtcdHealth parse_etcd_health(std::string_view output) {
  static const std::regex kLine(R"(^members=([0-9]+) healthy=([0-9]+) down=(\S*)$)");
  EtcdHealth h;
  for (const auto& raw : lines_of(output)) {
    const std::string l(trim(raw, " \t\r"));
    std::smatch m;
    if (!std::regex_match(l, m, kLine)) continue;
    h.members = std::stoi(m[1].str());
    h.healthy = std::stoi(m[2].str());
    h.down = m[3].str();
    h.parsed = h.members < 100 && h.healthy <= h.members;
    return h;
  }
  return h;
}

ApiProbeTally tally_api_probes(const std::vector<std::pair<Millis, bool>>& probes, int tail) {
  ApiProbeTally t;
  t.total = static_cast<int>(probes.size());
  std::optional<Millis> failing_since;
  for (const auto& [at, ok] : probes) {
    if (ok) {
      ++t.answered;
      if (failing_since) t.longest_gap = std::max(t.longest_gap, at - *failing_since);
      failing_since.reset();
    } else if (!failing_since) {
      failing_since = at;
    }
  }
  if (failing_since && !probes.empty())  // still failing at the end
    t.longest_gap = std::max(t.longest_gap, probes.back().first - *failing_since);
  if (tail > 0 && t.total >= tail) {
    t.answering_at_end = true;
    for (size_t i = probes.size() - static_cast<size_t>(tail); i < probes.size(); ++i)
      t.answering_at_end = t.answering_at_end && probes[i].second;
  }
  return t;
}

FailoverResult run_k8s_control_plane_loss(VerifyContext& ctx) {
  FailoverResult res;
  res.status = CheckStatus::Fail;
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };
  int outage_s = 60;
  try {
    outage_s = std::stoi(ctx.scenario.param("outage_s", "60"));
  } catch (...) {
  }
  std::vector<Node> masters;
  for (const auto& h : ctx.hosts) {
    if (h.subrole != "master") continue;
    auto c = ctx.connect(h);
    if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
    masters.push_back({h, *c});
  }
  if (masters.size() < 3)
    return give_up(
        fmt::format("il faut les 3 control planes dans la sélection (trouvés : {})", masters.size()));
  const Node* first = nullptr;
  for (const auto& m : masters)
    if (m.ok(std::string(kHelper) + " is-first")) first = &m;
  if (!first) return give_up("aucun control plane n'est k8s.first_control_plane");
  const Node* victim = nullptr;
  for (auto it = masters.rbegin(); it != masters.rend() && !victim; ++it)
    if (&*it != first) victim = &*it;

  const std::string health_cmd = std::string(kHelper) + " etcd-health";
  const EtcdHealth before = parse_etcd_health(first->out(health_cmd));
  if (!before.parsed || before.members != 3 || before.healthy != 3)
    return give_up("etcd n'a pas 3 membres sains avant le test : état à corriger d'abord");
  if (!first->ok(std::string(kHelper) + " api-ready"))
    return give_up("l'API ne répond pas par le répartiteur avant le test");
  res.measures.emplace_back(
      "Control plane arrêté",
      fmt::format("{} ({}), manifestes statiques déplacés", victim->host.hostname, victim->host.private_ip));
  res.measures.emplace_back("Observateur",
                            fmt::format("{} (API par k8s.control_plane_endpoint)", first->host.hostname));

  // Down: the manifests move away; its own API must stop answering (proof the node really is down).
  const auto t0 = Clock::now();
  if (!victim->ok(std::string(kHelper) + " cp-down"))
    return give_up(fmt::format("{} : manifestes statiques non déplacés", victim->host.hostname));
  bool victim_down = false;
  for (int i = 0; i < 120 && !victim_down; ++i) {
    victim_down = !victim->ok(std::string(kHelper) + " api-ready-local", Millis{10000});
    if (!victim_down) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  res.measures.emplace_back("API locale du nœud arrêté",
                            victim_down ? "arrêtée en " + since(t0) : "toujours là");

  std::vector<std::pair<Millis, bool>> probes;
  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffULL);
  int writes = 0, writes_ok = 0;
  EtcdHealth during;
  const auto until = Clock::now() + std::chrono::seconds(outage_s);
  while (Clock::now() < until) {
    const auto at = std::chrono::duration_cast<Millis>(Clock::now() - t0);
    probes.emplace_back(at, first->ok(std::string(kHelper) + " api-ready", Millis{10000}));
    if (probes.size() % 10 == 0) {  // a write through the API every 10 probes: etcd must commit it
      ++writes;
      writes_ok += first->ok(fmt::format("{} api-write kbz-failover-{}-{}", kHelper, run_id, writes)) ? 1 : 0;
      during = parse_etcd_health(first->out(health_cmd));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const ApiProbeTally tally = tally_api_probes(probes, 5);
  res.measures.emplace_back("Sondes API (répartiteur) pendant la panne",
                            fmt::format("{}/{} répondues", tally.answered, tally.total));
  res.measures.emplace_back("Plus longue interruption de l'API", format_duration_fr(tally.longest_gap));
  res.measures.emplace_back("Écritures par l'API pendant la panne",
                            fmt::format("{}/{} acceptées", writes_ok, writes));
  res.measures.emplace_back("etcd pendant la panne",
                            during.parsed ? fmt::format("{} membres, {} sains (quorum {})", during.members,
                                                        during.healthy, during.quorum() ? "gardé" : "perdu")
                                          : "illisible");

  // Back: the manifests return; etcd must count 3 healthy members again.
  const auto back_from = Clock::now();
  std::string rejoined = "non";
  if (victim->ok(std::string(kHelper) + " cp-up")) {
    const auto limit = Clock::now() + std::chrono::seconds(300);
    while (Clock::now() < limit) {
      const EtcdHealth h = parse_etcd_health(first->out(health_cmd));
      if (h.parsed && h.members == 3 && h.healthy == 3 &&
          victim->ok(std::string(kHelper) + " api-ready-local")) {
        rejoined = "oui, en " + since(back_from);
        break;
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }
  res.measures.emplace_back("Control plane revenu (etcd 3/3 sains, API locale prête)", rejoined);
  first->run(fmt::format("{} api-write-cleanup kbz-failover-{}-", kHelper, run_id));  // best effort

  std::vector<std::string> why;
  if (!victim_down) why.push_back("l'API du nœud arrêté répondait encore : panne non provoquée");
  if (!tally.answering_at_end)
    why.push_back("l'API ne répondait plus par le répartiteur à la fin de la panne");
  if (writes == 0 || writes_ok < writes) why.push_back("écriture refusée par l'API pendant la panne");
  if (!during.quorum()) why.push_back("quorum etcd non constaté pendant la panne");
  if (rejoined == "non") why.push_back("le control plane n'est pas revenu en 300 s");
  if (why.empty()) {
    res.status = CheckStatus::Pass;
  } else {
    res.detail = mask(fmt::format("{}", fmt::join(why, " ; ")));
  }
  return res;
}

}  // namespace kbz
