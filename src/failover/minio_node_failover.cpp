#include "kbz/failover/minio_node_failover.hpp"

#include <fmt/format.h>

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
constexpr const char* kCli = "/usr/local/sbin/kbz-minio-cli";

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
  std::string first_line(const std::string& command) const {
    auto r = run(command);
    if (!r) return {};
    const auto l = lines_of(r->out);
    return l.empty() ? std::string{} : l.front();
  }
};

}  // namespace

std::string minio_put_item_script(const std::string& run_id) {
  return fmt::format("{} put-item {} \"$1\" >/dev/null 2>&1\n", kCli, run_id);
}

std::vector<long> minio_ids_read_back(const std::string& output, const std::string& run_id) {
  std::vector<long> ids;
  const std::string prefix = "kbz-" + run_id + "-";
  for (const auto& raw : lines_of(output)) {
    const std::string l(trim(raw, " \t\r"));
    if (!l.starts_with(prefix)) continue;
    const std::string rest = l.substr(prefix.size());
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos || rest.size() > 12)
      continue;
    ids.push_back(std::stol(rest));
  }
  return ids;
}

FailoverResult run_minio_node_failover(VerifyContext& ctx) {
  FailoverResult res;
  res.status = CheckStatus::Fail;
  const auto give_up = [&](std::string why) {
    res.detail = mask(why);
    return res;
  };
  int outage_s = 15;
  try {
    outage_s = std::stoi(ctx.scenario.param("outage_s", "15"));
  } catch (...) {
  }
  std::vector<Node> nodes;
  for (const auto& h : ctx.hosts) {
    if (h.subrole != "minio") continue;
    auto c = ctx.connect(h);
    if (!c) return give_up(fmt::format("{} injoignable : {}", h.hostname, c.error().message));
    nodes.push_back({h, *c});
  }
  if (nodes.size() < 3)
    return give_up(fmt::format("il faut les 3 nœuds minio dans la sélection (trouvés : {})", nodes.size()));
  for (const auto& n : nodes)
    if (!n.ok(std::string(kCli) + " health cluster"))
      return give_up(fmt::format("{} : cluster sans quorum d'écriture avant le test, état à corriger d'abord",
                                 n.host.hostname));
  const Node& client = nodes.front();
  const Node& victim = nodes.back();
  res.measures.emplace_back("Nœud arrêté",
                            fmt::format("{} ({})", victim.host.hostname, victim.host.private_ip));
  res.measures.emplace_back("Client de test", fmt::format("{} (mc, alias local)", client.host.hostname));

  std::mt19937_64 rng(std::random_device{}());
  const std::string run_id = fmt::format("{:x}", rng() & 0xffffffffffULL);
  AckedWriterSpec spec;
  spec.run_id = run_id;
  spec.write = minio_put_item_script(run_id);
  spec.interval_ms = 200;
  spec.attempt_timeout_s = 15;
  auto writer = AckedWriter::start(*client.conn, spec);
  if (!writer) return give_up(writer.error().message);
  if (auto warm = writer->wait_acks(20, Millis{180000}); !warm) {
    (void)writer->stop();
    return give_up(warm.error().message);
  }

  // Hard kill of one node's MinIO (SIGKILL): reads and writes must go on with the two others.
  auto killed = hard_kill(*victim.conn, "minio");
  if (!killed) {
    (void)writer->stop();
    victim.run("docker start minio");
    return give_up(killed.error().message);
  }
  auto resumed = writer->wait_ack_started_after(*killed, Millis{60000});
  const bool reads_ok = client.ok(std::string(kCli) + " roundtrip", Millis{60000});
  res.measures.emplace_back("Lecture/écriture pendant la panne (objet de test relu, somme comparée)",
                            reads_ok ? "oui" : "non");
  std::this_thread::sleep_for(std::chrono::seconds(outage_s));

  // The node comes back: the cluster must be healthy on it again, and it heals what it missed.
  const auto back_from = Clock::now();
  std::string rejoined = "non";
  if (victim.ok("docker start minio")) {
    const auto until = Clock::now() + std::chrono::seconds(180);
    while (Clock::now() < until) {
      if (victim.ok(std::string(kCli) + " health cluster")) {
        rejoined = fmt::format(
            "oui, en {}", format_duration_fr(std::chrono::duration_cast<Millis>(Clock::now() - back_from)));
        break;
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }
  res.measures.emplace_back("Nœud réintégré (/minio/health/cluster 200)", rejoined);
  const std::string heal = victim.first_line(std::string(kCli) + " heal-status");
  res.measures.emplace_back("État de la réparation (mc admin heal)", heal.empty() ? "illisible" : heal);

  auto attempts = writer->stop();
  if (!attempts) return give_up(attempts.error().message);
  auto read = client.run(fmt::format("{} read-items {}", kCli, run_id), Millis{600000});
  std::vector<long> present;
  if (read && read->exit_status == 0) present = minio_ids_read_back(read->out, run_id);
  const WriteTally tally = count_back(*attempts, present, *killed);
  add_write_measures(res, tally);
  client.run(fmt::format("{} drop-items {}", kCli, run_id), Millis{600000});  // best effort

  std::vector<std::string> why;
  if (!resumed || !*resumed) why.push_back("aucune écriture acquittée dans les 60 s après l'arrêt brutal");
  if (!reads_ok) why.push_back("objet de test non relu à l'identique pendant la panne");
  if (!read || read->exit_status != 0) why.push_back("relecture des objets impossible");
  if (tally.lost > 0)
    why.push_back(
        fmt::format("{} objet(s) acquitté(s) perdu(s), ex. n° {}", tally.lost, tally.lost_ids.front()));
  if (rejoined == "non") why.push_back("le nœud arrêté n'a pas retrouvé un cluster sain en 180 s");
  res.status = why.empty() ? CheckStatus::Pass : CheckStatus::Fail;
  for (const auto& w : why) res.detail += (res.detail.empty() ? "" : " ; ") + w;
  if (why.empty())
    res.detail = fmt::format(
        "{} arrêté brutalement (docker kill) : écritures et lectures poursuivies, 0 objet "
        "acquitté perdu sur {}",
        victim.host.hostname, tally.acked);
  res.detail = mask(res.detail);
  return res;
}

}  // namespace kbz
