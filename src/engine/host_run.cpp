#include <fmt/format.h>

#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "kbz/core/interrupt.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/engine/batch.hpp"
#include "kbz/engine/diff.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/engine/file_probe.hpp"
#include "kbz/engine/rolling.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/engine/steps/container.hpp"

namespace kbz {
namespace {

using Clock = std::chrono::steady_clock;
Millis since(Clock::time_point t) { return std::chrono::duration_cast<Millis>(Clock::now() - t); }

constexpr const char* kFactsItem = "__facts";
constexpr const char* kUnlockItem = "__unlock";  // last item of a first batch that releases the lock
constexpr const char* kFilesItem = "__files";    // every file step's check, in one probe (file_probe.hpp)
constexpr std::string_view kReleasedLine = "kbz-lock-released";
constexpr std::string_view kConvergePrefix = "converge:";

// The last lines of a command's output, masked: enough to say why without flooding the console.
std::string why_from(const std::string& text, size_t n = 6) { return mask(tail_lines(text, n)); }

// rolling.rank's answer: an integer, optionally signed, spaces around allowed.
std::optional<long long> parse_rank(std::string_view line) {
  const std::string t(trim(line));
  if (t.empty() || t.size() > 18) return std::nullopt;
  size_t i = t[0] == '-' ? 1 : 0;
  if (i == t.size() || t.find_first_not_of("0123456789", i) != std::string::npos) return std::nullopt;
  return std::stoll(t);
}

TransportStats operator-(const TransportStats& a, const TransportStats& b) {
  return {a.execs - b.execs, a.bytes_sent - b.bytes_sent, a.bytes_received - b.bytes_received,
          a.uploads - b.uploads, a.uploads_skipped - b.uploads_skipped};
}
TransportStats& operator+=(TransportStats& a, const TransportStats& b) {
  a.execs += b.execs;
  a.bytes_sent += b.bytes_sent;
  a.bytes_received += b.bytes_received;
  a.uploads += b.uploads;
  a.uploads_skipped += b.uploads_skipped;
  return a;
}

StepResult result(std::string id, StepStatus status = StepStatus::Skipped, std::string message = {}) {
  StepResult r;
  r.step_id = std::move(id);
  r.status = status;
  r.message = std::move(message);
  return r;
}

class HostWorker {
 public:
  HostWorker(Connection& connection, const HostJob& job)
      : conn_(&connection),
        job_(job),
        ctx_(job.context),
        base_(connection.stats()),
        rolling_leave_(job.rolling, job.context.host.hostname) {}

  HostRun run();

 private:
  // TakeAndRelease: the batch takes the lock and releases it as its last item (a run expected to be a no-op).
  enum class HostLockUse { Take, TakeAndRelease, AlreadyHeld };
  Result<void> gather(size_t first, HostLockUse lock);
  void fetch_diffs(std::vector<std::pair<size_t, FileWrite>>& files);
  void run_handlers(const std::set<std::string>& notified, bool host_failed);
  void release_lock();
  std::string plan_recreate(const StepDecision& d) const;
  void apply_change(const Step& step, const StepDecision& d, const RollingTurn* turn, StepResult& r,
                    bool release_lock_after);
  bool needs_change(size_t first);
  Result<RollingPlace> rolling_place(const Step& step);
  std::string run_templated(const Step& step, const std::string& text, const char* what, Millis timeout,
                            int poll_timeout_s = 0);
  void finish(StepResult r) {
    if (r.status == StepStatus::Changed) run_.changed_anything = true;
    if (job_.observer) job_.observer->step_finished(run_.host, r);
    results_.push_back(std::move(r));
  }
  // Passed, nothing to roll, skipped or not for this host: hosts waiting in this rolling step stop counting
  // on it.
  void leave_rolling(const Step& step) {
    if (step.rolling && job_.rolling) job_.rolling->leave(step.id, run_.host.hostname);
  }
  void activity(const std::string& label) {
    if (job_.observer) job_.observer->activity(run_.host, label);
  }
  Result<ExecResult> exec(ExecRequest req) {
    if (!conn_) return fail(ErrorKind::Connect, "no SSH session to this host any more (a reconnect failed)");
    return conn_->run(req);
  }

  Connection* conn_;
  const HostJob& job_;
  TemplateContext ctx_;
  TransportStats base_, carried_;
  HostRun run_;
  std::vector<StepResult> results_;
  std::map<std::string, CheckOutput> checks_;
  std::map<size_t, Result<StepDecision>> decided_;  // needs_change()'s decisions, valid until the next gather
  std::vector<PreflightResult> preflight_;
  std::map<std::string, std::string> check_errors_;  // step id -> why its check could not be built
  bool lock_taken_ = false;
  std::vector<std::string> plan_changed_files_;  // Plan: paths earlier file steps would rewrite
  std::vector<std::string> plan_pending_;        // Plan: ids of earlier steps that would change
  RollingLeave rolling_leave_;                   // any way out of this host's work: nobody waits for it
};

// Plan only: in apply an earlier file step rewrites a config before this step's check runs again (the
// re-check after each change), so e.g. a container is recreated; in plan that file is only WouldChange and
// the check still hashes the old content. "" = no watched path changes.
std::string HostWorker::plan_recreate(const StepDecision& d) const {
  for (const auto& path : plan_changed_files_)
    for (const auto& source : d.watched_paths)
      if (mount_covers(source, path)) return fmt::format("{} {} changes", d.watch_message, path);
  return {};
}

// A templated command of a step as root. poll_timeout_s > 0: tried again once a second until it succeeds or
// the time is up, polled from here rather than as one long remote loop, so a Ctrl-C ends the wait within a
// second and the run ends the normal way (a rolling turn passed as failed, the host lock released) instead
// of the user's second Ctrl-C killing the run with its locks still on the hosts. "" = success.
std::string HostWorker::run_templated(const Step& step, const std::string& text, const char* what,
                                      Millis timeout, int poll_timeout_s) {
  auto cmd = render_command(text, ctx_, fmt::format("step '{}' {}", step.id, what));
  if (!cmd) return cmd.error().message;
  const auto end = Clock::now() + std::chrono::seconds(poll_timeout_s);
  for (;;) {
    auto res = exec({*cmd, "", Privilege::Root, timeout});
    if (res && res->exit_status == 0) return {};
    const std::string status = res ? fmt::format(" exited {}", res->exit_status) : std::string{};
    const std::string why = res ? why_from(res->out + "\n" + res->err) : res.error().message;
    if (poll_timeout_s <= 0) return fmt::format("{}{}: {}", what, status, why);
    if (interrupted()) return fmt::format("{}: interrupted (Ctrl-C) while waiting: {}", what, why);
    if (Clock::now() >= end)
      return fmt::format("{}{}: still not ready after {} s: {}", what, status, poll_timeout_s, why);
    for (int i = 0; i < 10 && !interrupted(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// rolling.primary_check: exit 0 = primary, any other exit = replica. 126/127 mean the shell could not run it
// (typo, missing tool): calling every host a replica then could restart the master without a failover.
// rolling.rank: its last line is an integer (the order among non-primaries, highest first); anything else
// stops the rolling (a node whose position is unknown must not be ordered as if it were behind).
Result<RollingPlace> HostWorker::rolling_place(const Step& step) {
  RollingPlace place;
  if (!step.rolling->primary_check.empty()) {
    auto cmd = render_command(step.rolling->primary_check, ctx_,
                              fmt::format("step '{}' rolling.primary_check", step.id));
    if (!cmd) return std::unexpected(cmd.error());
    auto res = exec({*cmd, "", Privilege::Root, Millis{60000}});
    if (!res) return fail(res.error().kind, "rolling.primary_check: " + res.error().message);
    if (res->exit_status == 126 || res->exit_status == 127)
      return fail(ErrorKind::Remote, fmt::format("rolling.primary_check exited {}: {}", res->exit_status,
                                                 why_from(res->out + "\n" + res->err)));
    place.primary = res->exit_status == 0;
  }
  if (!step.rolling->rank.empty()) {
    auto cmd = render_command(step.rolling->rank, ctx_, fmt::format("step '{}' rolling.rank", step.id));
    if (!cmd) return std::unexpected(cmd.error());
    auto res = exec({*cmd, "", Privilege::Root, Millis{120000}});
    if (!res) return fail(res.error().kind, "rolling.rank: " + res.error().message);
    const auto lines = lines_of(res->out);
    const auto rank = res->exit_status == 0 && !lines.empty() ? parse_rank(lines.back()) : std::nullopt;
    if (!rank)
      return fail(ErrorKind::Remote, fmt::format("rolling.rank gave no integer (exit {}): {}",
                                                 res->exit_status, why_from(res->out + "\n" + res->err)));
    place.rank = *rank;
  }
  return place;
}

// One change: uploads and the apply; for a rolled step (turn set) before_primary first on the primary and
// `ready` polled after, then the turn passes to the next host. Sets r's status and message.
void HostWorker::apply_change(const Step& step, const StepDecision& d, const RollingTurn* turn, StepResult& r,
                              bool release_lock_after) {
  const auto t0 = Clock::now();
  activity(step.id);
  std::string why;
  if (turn && turn->primary && !step.rolling->before_primary.empty())
    why = run_templated(step, step.rolling->before_primary, "rolling.before_primary", d.apply.timeout);
  if (why.empty()) {
    // Image archives go up first (SFTP, skipped when the remote sha256 matches), then the apply loads them.
    Result<ExecResult> res = ExecResult{0, {}, {}, Millis{0}};
    for (const auto& up : d.uploads)
      if (auto sent = conn_->upload(up); !sent) {
        res = std::unexpected(sent.error());
        break;
      }
    if (res) {
      // A rolled apply sees where every rolling host stood (KBZ_ROLLING_RANKS, rolling.rank).
      ExecRequest apply = d.apply;
      if (turn)
        apply.command = fmt::format("KBZ_ROLLING_RANKS={}; export KBZ_ROLLING_RANKS\n{}",
                                    shell_quote(turn->ranks), apply.command);
      if (release_lock_after) {
        // Nothing follows this apply on this host: the lock release rides on it, whatever the apply's exit.
        // The apply runs in a subshell (an `exit` in it cannot skip the release); the release says it ran on
        // stderr, and only then is the lock counted as released (a timeout or a lost session: release exec).
        apply.command = fmt::format("( {}\n); kbz_rc=$?; {} && echo {} >&2; exit $kbz_rc", apply.command,
                                    host_lock_release(job_.lock), kReleasedLine);
      }
      res = exec(apply);
      if (res && release_lock_after) {
        const std::string line = std::string(kReleasedLine) + "\n";
        if (const auto at = res->err.rfind(line); at != std::string::npos) {
          res->err.erase(at, line.size());
          lock_taken_ = false;
        }
      }
    }
    if (!res)
      why = res.error().message;
    else if (res->exit_status != 0)
      why = fmt::format("exit {}: {}", res->exit_status, why_from(res->out + "\n" + res->err));
    else if (turn && !step.rolling->ready.empty()) {
      activity(step.id + " (rolling: waiting until ready)");
      const int wait_s = step.rolling->ready_timeout_s;
      if (auto not_ready = run_templated(step, step.rolling->ready, "rolling.ready", Millis{60000}, wait_s);
          !not_ready.empty())
        why = d.message + "; " + not_ready;
    }
  }
  const bool waited = d.success == SuccessIs::Ok;
  r.status = !why.empty() ? StepStatus::Failed : waited ? StepStatus::Ok : StepStatus::Changed;
  r.message = !why.empty() ? why
              : waited     ? fmt::format("ready after {} s", since(t0).count() / 1000)
                           : d.message;
  if (turn) {
    r.message +=
        fmt::format(" (rolling {}/{}{}{})", turn->position, turn->total, turn->primary ? ", primary" : "",
                    turn->after.empty() ? "" : ", after " + turn->after);
    job_.rolling->done(step.id, run_.host.hostname,
                       why.empty() ? RollingCoordinator::Change::Done
                                   : RollingCoordinator::Change::Failed);  // the next host may go
  }
  r.message = mask(r.message);
}

Result<void> HostWorker::gather(size_t first, HostLockUse lock) {
  const bool take_lock = lock != HostLockUse::AlreadyHeld;
  decided_.clear();
  const auto& steps = job_.module->steps;
  TemplateContext shell_ctx = ctx_;
  shell_ctx.facts_as_shell_vars = true;
  std::vector<BatchItem> items{{kFactsItem, kFactsPrintCommand}};
  std::vector<std::pair<std::string, std::string>> probed;  // (step id, path): the file steps' checks
  for (size_t i = first; i < steps.size(); ++i) {
    // A step for other hosts (`hosts:` reads the inventory only) is never decided here: no check to run.
    // `when:` reads facts, which arrive with this batch: those checks run and their step is skipped after.
    if (!selector_matches(steps[i].hosts, ctx_.host)) continue;
    if (auto path = steps[i].kind->probed_path(steps[i], shell_ctx)) {
      probed.emplace_back(steps[i].id, *path);
      continue;
    }
    auto check = render_check(steps[i], *job_.module, shell_ctx);
    if (!check) {
      check_errors_[steps[i].id] = check.error().message;
      continue;
    }
    items.push_back({steps[i].id, *check});
  }
  std::vector<std::string> probed_paths;
  for (const auto& [_, path] : probed) probed_paths.push_back(path);
  if (!probed.empty()) items.push_back({kFilesItem, file_probe_script(probed_paths)});
  // The preflight guards changes: a run expected to be a no-op leaves it out, and a host found to need a
  // change is checked again under the lock, preflight included, before anything changes (run()).
  if (lock == HostLockUse::Take)
    for (auto& item : preflight_batch(job_.preflight)) items.push_back(std::move(item));
  // Apply's first gather also asks the converge checks once: a run that changes nothing anywhere and finds
  // the cluster converged needs no converge exec afterwards (engine.hpp, run_converge).
  if (take_lock)
    for (const auto& c : job_.module->converge) {
      if (!converge_applies(c, ctx_.host)) continue;
      if (auto cmd = render_command(c.check, shell_ctx, fmt::format("converge '{}' check", c.id)))
        items.push_back({std::string(kConvergePrefix) + c.id, *cmd});
    }
  if (lock == HostLockUse::TakeAndRelease) items.push_back({kUnlockItem, host_lock_release(job_.lock)});
  const std::string prelude =
      (take_lock ? host_lock_prelude(job_.lock) : std::string{}) + facts_shell_prelude();
  const std::string marker = new_batch_marker();
  // The script travels on stdin: long, and never in argv.
  auto res = exec({"sh -s", build_batch_script(items, marker, prelude), Privilege::Root, Millis{0}});
  if (take_lock) lock_taken_ = !res || res->exit_status != kHostLockedExit;
  if (!res) return std::unexpected(res.error());
  const bool has_marker = res->out.find(marker) != std::string::npos;
  if (!has_marker && res->exit_status == kHostLockedExit)
    return fail(ErrorKind::Locked, why_from(res->out + "\n" + res->err, 8));
  if (!has_marker)
    return fail(ErrorKind::Remote, fmt::format("check batch failed (exit {}): {}", res->exit_status,
                                               why_from(res->err.empty() ? res->out : res->err)));
  auto parsed = parse_batch_output(res->out, marker, items);
  if (!parsed) return std::unexpected(parsed.error());
  for (const auto& o : *parsed) {
    if (o.id == kFactsItem)
      ctx_.facts = parse_facts(o.output);
    else if (o.id.starts_with(kPreflightPrefix))
      preflight_.push_back(parse_preflight(o.id.substr(kPreflightPrefix.size()), o.exit_status, o.output));
    else if (o.id.starts_with(kConvergePrefix))
      run_.converge_at_start[o.id.substr(kConvergePrefix.size())] = o.exit_status == 0;
    else if (o.id == kUnlockItem)
      lock_taken_ = o.exit_status != 0;  // not released: the release exec at the end tries again
    else if (o.id == kFilesItem) {
      auto by_path = split_file_probe(o.output, probed_paths);
      for (const auto& [id, path] : probed) checks_[id] = by_path[path];
    } else
      checks_[o.id] = {o.exit_status, o.output};
  }
  return {};
}

// After a first batch that released the lock: would any step change (or fail its check)? Its decisions are
// kept for the step loop (decide renders templates: once is enough).
bool HostWorker::needs_change(size_t first) {
  const auto& steps = job_.module->steps;
  for (size_t i = first; i < steps.size(); ++i) {
    if (!step_applies(steps[i], ctx_.host, ctx_.facts, ctx_.settings)) continue;
    if (check_errors_.contains(steps[i].id) || !checks_.contains(steps[i].id)) return true;
    auto d = decide(steps[i], *job_.module, checks_[steps[i].id], ctx_);
    const bool change = !d || d->change;
    decided_.emplace(i, std::move(d));
    if (change) return true;
  }
  return false;
}

void HostWorker::release_lock() {
  if (!lock_taken_) return;
  activity("lock release");
  auto res = exec({host_lock_release(job_.lock), "", Privilege::Root, Millis{30000}});
  if (!res || res->exit_status != 0) {
    const std::string why = !res ? res.error().message : why_from(res->out + res->err);
    run_.cleanup_errors.push_back(mask(fmt::format("host lock {} not released: {}", job_.lock.path, why)));
  }
  lock_taken_ = false;
}

void HostWorker::fetch_diffs(std::vector<std::pair<size_t, FileWrite>>& files) {
  std::vector<BatchItem> items;
  for (const auto& [i, d] : files)
    if (d.remote_exists) items.push_back({fmt::format("f{}", i), "cat " + shell_quote(d.path)});
  std::map<std::string, std::string> remote;
  std::string fetch_error;
  if (!items.empty()) {
    activity("fetching files for diffs");
    auto out = run_batch(*conn_, items);
    if (out) {
      for (const auto& o : *out) remote[o.id] = o.output;
    } else {
      fetch_error = out.error().message;
    }
  }
  for (auto& [i, d] : files) {
    auto& r = *std::find_if(results_.begin(), results_.end(),
                            [&](const StepResult& s) { return s.step_id == job_.module->steps[i].id; });
    // Secret lines hidden first: the remote copy may hold a secret the Masker does not know.
    if (!d.remote_exists)
      r.diff = unified_diff("", hide_secret_lines("", d.rendered, d.secret_prefixes).second, d.path, false);
    else if (remote.contains(fmt::format("f{}", i))) {
      const auto [old_text, new_text] =
          hide_secret_lines(remote[fmt::format("f{}", i)], d.rendered, d.secret_prefixes);
      r.diff = unified_diff(old_text, new_text, d.path);
    } else
      r.diff = mask(fmt::format("(remote {} could not be read for a diff: {})\n", d.path, fetch_error));
  }
}

void HostWorker::run_handlers(const std::set<std::string>& notified, bool host_failed) {
  for (const auto& h : job_.module->handlers) {
    if (!notified.contains(h.id)) continue;
    const auto start = Clock::now();
    StepResult r = result("handler:" + h.id);
    if (job_.mode == RunMode::Plan) {
      r.status = StepStatus::WouldChange;
      r.message = "would run (a notifying step would change)";
      finish(std::move(r));
      continue;
    }
    if (host_failed || interrupted()) {
      r.message = interrupted() ? "interrupted" : "not run: an earlier step failed";
      finish(std::move(r));
      continue;
    }
    activity("handler " + h.id);
    auto run_one = [&](const std::string& text, const char* what) -> std::string {  // "" = success
      auto cmd = render_command(text, ctx_, fmt::format("handler '{}' {}", h.id, what));
      if (!cmd) return cmd.error().message;
      auto res = exec({*cmd, "", Privilege::Root, Millis{0}});
      if (!res) return res.error().message;
      if (res->exit_status != 0)
        return fmt::format("{} exited {}: {}", what, res->exit_status, why_from(res->out + "\n" + res->err));
      return {};
    };
    std::string why;
    if (!h.validate.empty()) why = run_one(h.validate, "validate");
    if (why.empty()) why = run_one(h.command, "command");
    if (why.empty() && h.reconnect) {
      if (!job_.reconnect) {
        why = "reconnect requested but this runner cannot open a new session";
      } else {
        if (conn_) carried_ += conn_->stats() - base_;  // the pool closes the old session
        auto fresh = job_.reconnect();
        if (!fresh) {
          // The pool has already closed the old session: nothing may use it again.
          conn_ = nullptr;
          why = "a NEW SSH session was refused after this handler (access may be lost): " +
                fresh.error().message;
        } else {
          conn_ = *fresh;
          base_ = conn_->stats();
          // A session that logged in may still be slow to open its first channel (sshd forking the
          // session on a loaded server): a transport error is tried again for up to 30 s; a command that
          // runs and fails (sudo refused) fails at once. The reason is kept in the message.
          const auto until = Clock::now() + std::chrono::seconds(30);
          auto probe = exec({"true", "", Privilege::Root, Millis{30000}});
          while (!probe && probe.error().kind == ErrorKind::Connect && conn_ && Clock::now() < until &&
                 !interrupted()) {
            std::this_thread::sleep_for(std::chrono::seconds(1));
            probe = exec({"true", "", Privilege::Root, Millis{30000}});
          }
          if (!probe || probe->exit_status != 0)
            why = "a new SSH session opened but cannot run commands (sudo?) after this handler: " +
                  (probe ? fmt::format("`true` exited {}", probe->exit_status) : probe.error().message);
        }
      }
    }
    r.duration = since(start);
    r.status = why.empty() ? StepStatus::Changed : StepStatus::Failed;
    r.message = mask(why.empty() ? (h.reconnect ? "ran; a new SSH session still gets in" : "ran") : why);
    finish(std::move(r));
    if (!why.empty()) host_failed = true;
  }
}

HostRun HostWorker::run() {
  const auto start = Clock::now();
  run_.host = ctx_.host;
  const auto& steps = job_.module->steps;
  size_t first = 0;
  if (!job_.from_step.empty())
    for (size_t i = 0; i < steps.size(); ++i)
      if (steps[i].id == job_.from_step) first = i;
  for (size_t i = 0; i < first; ++i) {
    leave_rolling(steps[i]);
    finish(result(steps[i].id, StepStatus::Skipped, "before --from-step " + job_.from_step));
  }

  activity("checks");
  const bool apply = job_.mode == RunMode::Apply;
  const bool optimistic = apply && job_.expect_no_op;
  auto ok = gather(first, !apply       ? HostLockUse::AlreadyHeld
                          : optimistic ? HostLockUse::TakeAndRelease
                                       : HostLockUse::Take);
  // Expected a no-op, released the lock, and found something to change (or a check that cannot run): take the
  // lock again with fresh checks and the preflight, so that every change is decided and made under it.
  if (ok && optimistic && !lock_taken_ && needs_change(first)) {
    activity("checks (again, under the lock)");
    checks_.clear();
    check_errors_.clear();
    run_.converge_at_start.clear();
    ok = gather(first, HostLockUse::Take);
  }
  if (!ok) {
    const auto kind = ok.error().kind;
    run_.unreachable = kind == ErrorKind::Connect || kind == ErrorKind::Auth || kind == ErrorKind::HostKey;
    run_.error = mask(ok.error().message);
    if (kind == ErrorKind::Locked) run_.error = "host lock held by another run: " + run_.error;
    for (size_t i = first; i < steps.size(); ++i)
      finish(result(steps[i].id, StepStatus::Skipped, "not checked: " + run_.error));
    release_lock();
  } else if (run_.preflight_failed = mask(preflight_failures(preflight_));
             !run_.preflight_failed.empty() && job_.preflight_use == PreflightUse::Enforce) {
    // Refused before anything changes: the host is not ready for this module (--skip-preflight forces).
    run_.error = run_.preflight_failed;
    for (size_t i = first; i < steps.size(); ++i)
      finish(result(steps[i].id, StepStatus::Skipped, "not run: preflight failed"));
    release_lock();
  } else {
    bool failed = false;
    std::set<std::string> notified;
    std::vector<std::pair<size_t, FileWrite>> diffs;
    for (size_t i = first; i < steps.size(); ++i) {
      const Step& step = steps[i];
      const auto t0 = Clock::now();
      StepResult r = result(step.id);
      if (failed) {
        r.message = "an earlier step failed";
      } else if (interrupted()) {
        r.message = "interrupted";
      } else if (!step_applies(step, ctx_.host, ctx_.facts, ctx_.settings)) {
        r.message = step.when.empty() ? "not for this host" : "when: " + step.when + " is false";
      } else if (check_errors_.contains(step.id)) {
        r.status = StepStatus::Failed;
        r.message = mask(check_errors_[step.id]);
      } else if (!checks_.contains(step.id)) {
        r.status = StepStatus::Failed;
        r.message = "no check result";
      } else {
        auto d = decided_.contains(i) ? std::move(decided_.at(i))
                                      : decide(step, *job_.module, checks_[step.id], ctx_);
        if (d && !d->change && !apply) {
          if (auto why = plan_recreate(*d); !why.empty()) {
            d->change = true;
            d->existing = true;
            d->message = std::move(why);
          }
        }
        // Plan on a fresh host: the image, account or mounted file a container needs comes from earlier steps
        // that only WOULD run. Not a failure of the plan: say what apply will do and why it cannot be
        // checked.
        if (!d && !apply && step.kind->traits().defers_in_plan && d.error().kind == ErrorKind::Remote &&
            !plan_pending_.empty()) {
          StepDecision later;
          later.change = true;
          later.message =
              fmt::format("runs once the steps before it ran (not checkable yet: {})", d.error().message);
          d = std::move(later);
        }
        if (!d) {
          r.status = StepStatus::Failed;
          r.message = mask(d.error().message);
        } else if (!d->change) {
          r.status = StepStatus::Ok;
          r.message = mask(d->message);  // what an ok step has to say (volume: "data stays on /")
        } else if (!apply) {
          r.status = StepStatus::WouldChange;
          r.message = mask(d->message);
          plan_pending_.push_back(step.id);
          if (step.rolling && d->existing) r.message += " (rolling: one host at a time)";
          for (const auto& n : step.notify) notified.insert(n);
          if (d->file) {
            plan_changed_files_.push_back(d->file->path);
            diffs.emplace_back(i, std::move(*d->file));
          }
        } else {
          // A rolling step changing an existing container waits here for this host's turn (rolling.hpp).
          std::optional<RollingTurn> turn;
          if (step.rolling && d->existing && job_.rolling) {
            activity(step.id + " (rolling: waiting for its turn)");
            turn = job_.rolling->wait_turn_ranked(step.id, run_.host.hostname,
                                                  [&] { return rolling_place(step); });
          }
          if (!lock_taken_) {  // never reached (see needs_change); a change is never made without the lock
            r.status = StepStatus::Failed;
            r.message = "not changed: this run does not hold the host lock";
          } else if (turn && turn->outcome != RollingTurn::Outcome::Go) {
            const bool stopped = turn->outcome == RollingTurn::Outcome::Stopped;
            r.status = stopped ? StepStatus::Failed : StepStatus::Skipped;
            r.message = mask(turn->why);
          } else {
            // The last exec of this host: the last step, no handler to run after it, no `ready` to poll.
            const bool last_exec = lock_taken_ && !d->apply.command.empty() && i + 1 == steps.size() &&
                                   notified.empty() && step.notify.empty() &&
                                   !(turn && !step.rolling->ready.empty());
            apply_change(step, *d, turn ? &*turn : nullptr, r, last_exec);
          }
          if (r.status != StepStatus::Failed && r.status != StepStatus::Skipped) {
            if (d->success != SuccessIs::Ok)
              for (const auto& n : step.notify) notified.insert(n);
            // An apply can change what later checks see: re-run them (one exec) before deciding again.
            if (i + 1 < steps.size()) {
              activity("re-checks");
              if (auto again = gather(i + 1, HostLockUse::AlreadyHeld); !again) {
                run_.error = mask("re-check after " + step.id + " failed: " + again.error().message);
                failed = true;
              }
            }
          }
        }
      }
      leave_rolling(step);
      if (r.status == StepStatus::Failed) failed = true;
      r.duration = since(t0);
      finish(std::move(r));
    }
    if (!diffs.empty()) fetch_diffs(diffs);
    run_handlers(notified, failed);
    release_lock();
  }
  activity("");
  run_.steps = std::move(results_);
  run_.stats = carried_;
  if (conn_) run_.stats += conn_->stats() - base_;
  run_.duration = since(start);
  return std::move(run_);
}

}  // namespace

// mkdir is the atomic step; the info file follows it. A lock dir seen without its info is being taken (or
// was just released) by a run on this same machine: try again for up to 2 s before calling it held. Hosts
// of one run that share a /run (tests, a farm without namespaces) release and take it at different times.
std::string host_lock_prelude(const HostLock& lock) {
  return fmt::format(
      "kbz_lock={0}; kbz_i=0\n"
      "while :; do\n"
      "  if mkdir \"$kbz_lock\" 2>/dev/null; then\n"
      "    printf 'installer=%s\\npid=%s\\nrun_id=%s\\nstarted=%s\\n' {1} {2} {3} {4} > \"$kbz_lock/info\"; "
      "break\n"
      "  fi\n"
      "  if grep -qx {5} \"$kbz_lock/info\" 2>/dev/null; then break; fi\n"
      "  if [ -s \"$kbz_lock/info\" ] || [ \"$kbz_i\" -ge 20 ]; then\n"
      "    echo \"held by: $(tr '\\n' ' ' < \"$kbz_lock/info\" 2>/dev/null)(if no run is active: rm -r "
      "$kbz_lock)\"\n"
      "    exit {6}\n"
      "  fi\n"
      "  kbz_i=$((kbz_i + 1)); sleep 0.1\n"
      "done\n",
      shell_quote(lock.path), shell_quote(lock.installer), lock.pid, shell_quote(lock.run_id),
      shell_quote(lock.started_utc), shell_quote("run_id=" + lock.run_id), kHostLockedExit);
}

std::string host_lock_release(const HostLock& lock) {
  return fmt::format(
      "kbz_lock={}; if grep -qx {} \"$kbz_lock/info\" 2>/dev/null; then rm -rf \"$kbz_lock\"; fi",
      shell_quote(lock.path), shell_quote("run_id=" + lock.run_id));
}

bool selector_matches(const std::string& selector, const Host& host) {
  if (trim(selector).empty()) return true;
  for (const auto term : split(selector, ','))
    if (const auto t = trim(term); !t.empty() && host_matches(host, t)) return true;
  return false;
}

bool step_applies(const Step& step, const Host& host, const Facts& facts,
                  const std::map<std::string, std::string>& settings) {
  return selector_matches(step.hosts, host) && evaluate_when(step.when, facts, host, settings);
}

bool converge_applies(const ConvergeCheck& check, const Host& host) {
  return selector_matches(check.hosts, host);
}

HostRun run_host(Connection& connection, const HostJob& job) { return HostWorker(connection, job).run(); }

}  // namespace kbz
