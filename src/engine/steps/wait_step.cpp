// kind: wait — polls a read-only `check` until it exits 0, bounded by `timeout` (default 60 s), in ONE exec.
// A wait that becomes ready changed nothing: it reports ok.
#include <fmt/format.h>

#include "kbz/engine/step_kind.hpp"

namespace kbz {
namespace {

struct WaitSpec : StepSpec {
  std::string check;
};

class WaitKind final : public StepKind {
 public:
  std::string_view name() const override { return "wait"; }
  std::vector<std::string> keys() const override { return {"check"}; }
  KindTraits traits() const override { return {.default_timeout_s = 60}; }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto spec = std::make_shared<WaitSpec>();
    spec->check = f.required("check");
    step.spec = std::move(spec);
  }

  Result<std::string> check(const Step& step, const Module&, const TemplateContext& ctx) const override {
    return render_command(step.spec_as<WaitSpec>().check, ctx, fmt::format("step '{}' check", step.id));
  }

  Result<StepDecision> decide(const Step& step, const Module& m, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    StepDecision d;
    if (c.exit_status == 0) return d;
    d.change = true;
    d.success = SuccessIs::Ok;
    d.message = fmt::format("not ready yet (waits up to {} s)", step.timeout_s);
    auto check = this->check(step, m, ctx);
    if (!check) return std::unexpected(check.error());
    d.apply.command = wait_loop(*check, step.timeout_s);
    d.apply.timeout = Millis(static_cast<long long>(step.timeout_s + 30) * 1000);
    return d;
  }

  std::string describe_fr(const Step& step, const Module&) const override {
    return fmt::format("attente jusqu'à {} s", step.timeout_s);
  }

  std::vector<std::pair<std::string, std::string>> doc_commands(const Step& step) const override {
    return {{"vérification", step.spec_as<WaitSpec>().check}};
  }
};

}  // namespace

const StepKind& wait_step_kind() {
  static const WaitKind kind;
  return kind;
}

}  // namespace kbz
