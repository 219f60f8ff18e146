// kind: service — a systemd unit started or stopped, enabled or not. Check: is-active + is-enabled.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "kbz/core/text.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

enum class WantState { Started, Stopped };

struct ServiceSpec : StepSpec {
  std::string service;
  WantState state = WantState::Started;
  bool enabled = true;
};

class ServiceKind final : public StepKind {
 public:
  std::string_view name() const override { return "service"; }
  std::vector<std::string> keys() const override { return {"service", "state", "enabled"}; }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto spec = std::make_shared<ServiceSpec>();
    spec->service = f.required("service");
    const std::string state = f.str("state", "started");
    if (state == "stopped")
      spec->state = WantState::Stopped;
    else if (state != "started")
      f.error("state", fmt::format("step '{}': state must be started or stopped", step.id));
    spec->enabled = f.boolean("enabled", true);
    step.spec = std::move(spec);
  }

  Result<std::string> check(const Step& step, const Module&, const TemplateContext& ctx) const override {
    auto unit =
        render_command(step.spec_as<ServiceSpec>().service, ctx, fmt::format("step '{}' check", step.id));
    if (!unit) return unit;
    return fmt::format("systemctl is-active {0}; systemctl is-enabled {0}", shell_quote(*unit));
  }

  Result<StepDecision> decide(const Step& step, const Module&, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    const auto& s = step.spec_as<ServiceSpec>();
    auto unit = render_command(s.service, ctx, fmt::format("step '{}' service", step.id));
    if (!unit) return std::unexpected(unit.error());
    const auto lines = lines_of(c.output);
    const std::string active = lines.size() > 0 ? lines[0] : "", enabled = lines.size() > 1 ? lines[1] : "";
    static const std::set<std::string> enabled_states = {"enabled", "enabled-runtime", "static",
                                                         "alias",   "indirect",        "generated"};
    static const std::set<std::string> disabled_states = {"disabled", "masked", "static"};
    std::vector<std::string> cmds, why;
    if (s.state == WantState::Started && active != "active") {
      cmds.push_back("systemctl start " + shell_quote(*unit));
      why.push_back(fmt::format("{} -> active", active.empty() ? "unknown" : active));
    } else if (s.state == WantState::Stopped && active == "active") {
      cmds.push_back("systemctl stop " + shell_quote(*unit));
      why.push_back("active -> stopped");
    }
    if (s.enabled && !enabled_states.contains(enabled)) {
      cmds.insert(cmds.begin(), "systemctl enable " + shell_quote(*unit));
      why.push_back(fmt::format("{} -> enabled", enabled.empty() ? "unknown" : enabled));
    } else if (!s.enabled && !disabled_states.contains(enabled)) {
      cmds.push_back("systemctl disable " + shell_quote(*unit));
      why.push_back(fmt::format("{} -> disabled", enabled));
    }
    StepDecision d;
    if (cmds.empty()) return d;
    d.change = true;
    d.message = fmt::format("{}", fmt::join(why, ", "));
    d.apply.command = fmt::format("{}", fmt::join(cmds, " && "));
    return d;
  }

  std::string describe_fr(const Step& step, const Module&) const override {
    const auto& s = step.spec_as<ServiceSpec>();
    return fmt::format("{} : {}{}", md_code(s.service), s.state == WantState::Stopped ? "arrêté" : "démarré",
                       s.enabled ? ", activé au démarrage" : ", non activé");
  }
};

}  // namespace

const StepKind& service_step_kind() {
  static const ServiceKind kind;
  return kind;
}

}  // namespace kbz
