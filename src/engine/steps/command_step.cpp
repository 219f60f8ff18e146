// kind: command — a read-only `check` (exit 0 = nothing to do) and the `apply` run when it is not met. Both
// are templates; a secret may never appear in either (argv is visible in ps): secrets go through file steps.
#include <fmt/format.h>

#include "kbz/core/text.hpp"
#include "kbz/engine/step_kind.hpp"

namespace kbz {
namespace {

struct CommandSpec : StepSpec {
  std::string check, apply;
};

class CommandKind final : public StepKind {
 public:
  std::string_view name() const override { return "command"; }
  std::vector<std::string> keys() const override { return {"check", "apply"}; }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto spec = std::make_shared<CommandSpec>();
    spec->check = f.required("check");
    spec->apply = f.required("apply");
    step.spec = std::move(spec);
  }

  Result<std::string> check(const Step& step, const Module&, const TemplateContext& ctx) const override {
    return render_command(step.spec_as<CommandSpec>().check, ctx, fmt::format("step '{}' check", step.id));
  }

  Result<StepDecision> decide(const Step& step, const Module&, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    StepDecision d;
    if (c.exit_status == 0) return d;
    d.change = true;
    auto apply =
        render_command(step.spec_as<CommandSpec>().apply, ctx, fmt::format("step '{}' apply", step.id));
    if (!apply) return std::unexpected(apply.error());
    d.apply.command = *apply;
    // The plan's reader wants to see what will run, not only that the check failed (masked by the caller).
    std::string head = apply->substr(0, apply->find('\n'));
    if (head.size() > 100) head = head.substr(0, 97) + "...";
    // What the check printed last says why (e.g. "differs: quorum=3->2"); the caller masks it.
    const auto lines = lines_of(c.output);
    const std::string said = lines.empty() ? std::string{} : lines.back().substr(0, 100);
    d.message = said.empty()
                    ? fmt::format("check not met (exit {}); apply: {}", c.exit_status, head)
                    : fmt::format("check not met (exit {}: {}); apply: {}", c.exit_status, said, head);
    return d;
  }

  std::string describe_fr(const Step& step, const Module&) const override {
    return step.spec_as<CommandSpec>().apply.empty() ? "vérification seule" : "commande (voir ci-dessous)";
  }

  std::vector<std::pair<std::string, std::string>> doc_commands(const Step& step) const override {
    const auto& s = step.spec_as<CommandSpec>();
    return {{"vérification", s.check}, {"application", s.apply}};
  }
};

}  // namespace

const StepKind& command_step_kind() {
  static const CommandKind kind;
  return kind;
}

}  // namespace kbz
