#include "kbz/failover/acked_writes.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <regex>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

std::optional<long long> number(std::string_view s) {
  long long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<ExecResult> run_root(Connection& c, const std::string& cmd, std::string stdin_data, Millis timeout) {
  return c.run({cmd, std::move(stdin_data), Privilege::Root, timeout});
}

std::string why(const Result<ExecResult>& r) {
  if (!r) return mask(r.error().message);
  return mask(fmt::format("exit {}: {}", r->exit_status, tail_lines(r->out + "\n" + r->err, 4)));
}

}  // namespace

std::string AckedWriter::dir() const { return "/run/kbz-failover-" + spec_.run_id; }

Result<AckedWriter> AckedWriter::start(Connection& client, AckedWriterSpec spec) {
  if (!std::regex_match(spec.run_id, std::regex("[a-z0-9]{1,32}")))
    return fail(ErrorKind::Internal, "writer run id must be [a-z0-9]{1,32}");
  AckedWriter w(client, std::move(spec));
  const std::string d = shell_quote(w.dir());
  // The write script arrives on stdin (never argv); the loop is detached so the exec returns at once.
  const std::string cmd = fmt::format(
      "set -e; d={0}; rm -rf \"$d\"; mkdir -m 0700 \"$d\"; cat > \"$d/write.sh\"\n"
      "cat > \"$d/loop.sh\" <<'KBZ_LOOP'\n"
      "d=$1; i=0\n"
      "while [ ! -e \"$d/stop\" ]; do\n"
      "  i=$((i + 1)); s=$(date +%s%3N)\n"
      "  if timeout {1} sh \"$d/write.sh\" \"$i\" >/dev/null 2>&1 </dev/null; then r=ok; else r=fail; fi\n"
      "  echo \"$r $i $s $(date +%s%3N)\" >> \"$d/log\"\n"
      "  sleep {2}\n"
      "done\n"
      "echo done >> \"$d/log\"\n"
      "KBZ_LOOP\n"
      ": > \"$d/log\"; nohup sh \"$d/loop.sh\" \"$d\" >/dev/null 2>&1 </dev/null &\n"
      "echo started",
      d, w.spec_.attempt_timeout_s,
      fmt::format("{}.{:03d}", w.spec_.interval_ms / 1000, w.spec_.interval_ms % 1000));
  auto r = run_root(client, cmd, w.spec_.write, Millis{30000});
  if (!r || r->exit_status != 0) return fail(ErrorKind::Remote, "the test writer did not start: " + why(r));
  return w;
}

Result<std::optional<long long>> AckedWriter::wait_ack_started_after(long long t_ms, Millis timeout) {
  const long long secs = std::max<long long>(1, timeout.count() / 1000);
  const std::string cmd = fmt::format(
      "end=$(( $(date +%s) + {1} ))\n"
      "while [ \"$(date +%s)\" -lt \"$end\" ]; do\n"
      "  t=$(awk -v k={2} '$1 == \"ok\" && $3 > k {{ print $4; exit }}' {0}/log)\n"
      "  [ -n \"$t\" ] && {{ echo \"acked $t\"; exit 0; }}\n"
      "  sleep 0.2\n"
      "done\n"
      "echo none",
      shell_quote(dir()), secs, t_ms);
  auto r = run_root(*client_, cmd, {}, Millis{(secs + 30) * 1000});
  if (!r) return std::unexpected(r.error());
  for (const auto& l : lines_of(r->out))
    if (l.starts_with("acked "))
      if (auto t = number(l.substr(6))) return std::optional<long long>(*t);
  return std::optional<long long>();
}

Result<void> AckedWriter::wait_acks(long count, Millis timeout) {
  const long long secs = std::max<long long>(1, timeout.count() / 1000);
  const std::string cmd = fmt::format(
      "end=$(( $(date +%s) + {1} ))\n"
      "while [ \"$(grep -c '^ok ' {0}/log)\" -lt {2} ]; do\n"
      "  [ \"$(date +%s)\" -ge \"$end\" ] && {{ echo \"only $(grep -c '^ok ' {0}/log) acknowledged\"; tail "
      "-n 3 {0}/log; exit 1; }}\n"
      "  sleep 0.2\n"
      "done",
      shell_quote(dir()), secs, count);
  auto r = run_root(*client_, cmd, {}, Millis{(secs + 30) * 1000});
  if (!r || r->exit_status != 0)
    return fail(ErrorKind::Remote, "the test writer got no acknowledgements: " + why(r));
  return {};
}

Result<std::vector<WriteAttempt>> AckedWriter::stop() {
  const std::string cmd = fmt::format(
      "d={0}; touch \"$d/stop\"\n"
      "for i in $(seq {1}); do tail -n 1 \"$d/log\" | grep -qx done && break; sleep 0.5; done\n"
      "cat \"$d/log\"; rm -rf \"$d\"",
      shell_quote(dir()), 2 * (spec_.attempt_timeout_s + 2));
  auto r = run_root(*client_, cmd, {}, Millis{(spec_.attempt_timeout_s + 40) * 1000LL});
  if (!r || r->exit_status != 0)
    return fail(ErrorKind::Remote, "the test writer's log could not be read: " + why(r));
  return parse_attempts(r->out);
}

std::vector<WriteAttempt> parse_attempts(const std::string& log) {
  std::vector<WriteAttempt> out;
  for (const auto& l : lines_of(log)) {
    const auto w = split(l, ' ');
    if (w.size() != 4 || (w[0] != "ok" && w[0] != "fail")) continue;
    const auto id = number(w[1]), s = number(w[2]), e = number(w[3]);
    if (!id || !s || !e) continue;
    out.push_back({static_cast<long>(*id), *s, *e, w[0] == "ok"});
  }
  return out;
}

std::vector<long> parse_ids(const std::string& output) {
  std::vector<long> out;
  for (const auto& l : lines_of(output))
    if (auto v = number(trim(l))) out.push_back(static_cast<long>(*v));
  return out;
}

Result<long long> hard_kill(Connection& node, const std::string& container) {
  auto r = run_root(node, fmt::format("date +%s%3N; docker kill {} >/dev/null", shell_quote(container)), {},
                    Millis{60000});
  if (!r || r->exit_status != 0)
    return fail(ErrorKind::Remote, fmt::format("docker kill {} failed: {}", container, why(r)));
  const auto lines = lines_of(r->out);
  auto t = lines.empty() ? std::nullopt : number(lines.front());
  if (!t) return fail(ErrorKind::Remote, "no clock reading before the kill");
  return *t;
}

WriteTally count_back(const std::vector<WriteAttempt>& attempts, const std::vector<long>& present,
                      long long kill_ms) {
  WriteTally t;
  std::map<long, int> seen;
  for (long id : present) ++seen[id];
  std::optional<long long> last_ack;
  for (const auto& a : attempts) {
    ++t.attempted;
    if (!a.acked) {
      ++t.refused;
      continue;
    }
    ++t.acked;
    if (!seen.contains(a.id)) {
      ++t.lost;
      if (t.lost_ids.size() < 10) t.lost_ids.push_back(a.id);
    }
    if (!t.resumed_after_ms && a.start_ms > kill_ms) t.resumed_after_ms = a.end_ms - kill_ms;
    if (last_ack) t.longest_gap_ms = std::max(t.longest_gap_ms, a.end_ms - *last_ack);
    last_ack = a.end_ms;
  }
  for (const auto& [id, n] : seen)
    if (n > 1) t.duplicates += static_cast<size_t>(n - 1);
  return t;
}

void add_write_measures(FailoverResult& r, const WriteTally& t) {
  r.measures.emplace_back("Écritures tentées / acquittées / refusées",
                          fmt::format("{} / {} / {}", t.attempted, t.acked, t.refused));
  r.measures.emplace_back(
      "Reprise des écritures après l'arrêt brutal",
      t.resumed_after_ms ? format_duration_fr(Millis{*t.resumed_after_ms}) : "non observée");
  r.measures.emplace_back("Plus longue interruption des écritures acquittées",
                          format_duration_fr(Millis{t.longest_gap_ms}));
  r.measures.emplace_back(
      "Écritures acquittées perdues",
      t.lost == 0 ? fmt::format("0 / {}", t.acked)
                  : fmt::format("{} / {} (ex. {})", t.lost, t.acked, fmt::join(t.lost_ids, ", ")));
  r.measures.emplace_back("Doublons relus", fmt::format("{}", t.duplicates));
}

}  // namespace kbz
