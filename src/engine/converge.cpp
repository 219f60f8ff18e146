#include "kbz/engine/converge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/engine/engine.hpp"

namespace kbz {

std::string converge_script(const std::vector<std::pair<const ConvergeCheck*, std::string>>& checks) {
  std::string s;
  for (const auto& [c, cmd] : checks) {
    // Each check in its own subshell, all at once: the host's converge time is the slowest check's.
    s += fmt::format(
        "(\n"
        "  kbz_s=$(date +%s); kbz_end=$((kbz_s + {1}))\n"
        "  while ! ( {2}\n  ) >/dev/null 2>&1 </dev/null; do\n"
        "    if [ \"$(date +%s)\" -ge \"$kbz_end\" ]; then\n"
        "      ( {2}\n      ) 2>&1 </dev/null | tail -n 5 | sed 's/^/kbz-converge-out {0} /'\n"
        "      echo \"kbz-converge {0} timeout {1}\"; exit 1\n"
        "    fi\n"
        "    sleep 1\n"
        "  done\n"
        "  echo \"kbz-converge {0} ok $(( $(date +%s) - kbz_s ))\"\n"
        ") &\n",
        c->id, c->timeout_s, cmd);
  }
  s += "wait\n";
  return s;
}

std::vector<StepResult> parse_converge_output(const std::vector<const ConvergeCheck*>& checks,
                                              const std::string& output) {
  std::map<std::string, std::string> outcome, last;
  for (const auto& line : lines_of(output)) {
    const auto w = split(line, ' ');
    if (w.size() >= 3 && w[0] == "kbz-converge-out") {
      auto& l = last[std::string(w[1])];
      l += (l.empty() ? "" : " | ") + line.substr(w[0].size() + w[1].size() + 2);
    } else if (w.size() == 4 && w[0] == "kbz-converge") {
      outcome[std::string(w[1])] = fmt::format("{} {}", w[2], w[3]);
    }
  }
  std::vector<StepResult> out;
  for (const auto* c : checks) {
    StepResult r;
    r.step_id = "converge:" + c->id;
    const auto it = outcome.find(c->id);
    if (it != outcome.end() && it->second.starts_with("ok ")) {
      r.status = StepStatus::Ok;
      r.message = fmt::format("converged after {} s", it->second.substr(3));
    } else {
      r.status = StepStatus::Failed;
      const std::string said = last.contains(c->id) ? ": " + last[c->id] : "";
      r.message = mask(it == outcome.end()
                           ? fmt::format("no answer from the converge check{}", said)
                           : fmt::format("{} not converged after {} s{}", c->title, c->timeout_s, said));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<StepResult> run_converge(Connection& connection, const Module& module,
                                     const TemplateContext& ctx) {
  std::vector<std::pair<const ConvergeCheck*, std::string>> rendered;
  std::vector<const ConvergeCheck*> order;
  std::vector<StepResult> failed;
  int longest = 0;
  for (const auto& c : module.converge) {
    if (!converge_applies(c, ctx.host)) continue;
    auto cmd = render_command(c.check, ctx, fmt::format("converge '{}' check", c.id));
    if (!cmd) {
      failed.push_back({"converge:" + c.id, StepStatus::Failed, mask(cmd.error().message), {}, Millis{0}});
      continue;
    }
    rendered.emplace_back(&c, *cmd);
    order.push_back(&c);
    longest = std::max(longest, c.timeout_s);
  }
  if (rendered.empty()) return failed;
  const auto t0 = std::chrono::steady_clock::now();
  auto res =
      connection.run({"sh -s", converge_script(rendered), Privilege::Root, Millis{(longest + 60) * 1000LL}});
  std::vector<StepResult> out;
  if (!res) {
    for (const auto* c : order)
      out.push_back({"converge:" + c->id, StepStatus::Failed, mask(res.error().message), {}, Millis{0}});
  } else {
    out = parse_converge_output(order, res->out + res->err);
  }
  const auto took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0);
  for (auto& r : out) r.duration = took;
  out.insert(out.end(), failed.begin(), failed.end());
  return out;
}

ConvergeNeed converge_need(const Module& module, const std::vector<HostRun>& hosts) {
  if (module.converge.empty()) return ConvergeNeed::None;
  bool changed = false, all_passed = true;
  for (const auto& h : hosts) {
    if (h.unreachable || !h.first_failure().empty()) return ConvergeNeed::Skip;
    changed |= h.changed_anything;
    for (const auto& c : module.converge) {
      if (!converge_applies(c, h.host)) continue;
      const auto it = h.converge_at_start.find(c.id);
      all_passed &= it != h.converge_at_start.end() && it->second;
    }
  }
  return !changed && all_passed ? ConvergeNeed::AlreadyConverged : ConvergeNeed::Poll;
}

}  // namespace kbz
