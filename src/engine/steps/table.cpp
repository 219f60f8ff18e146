// The table of step kinds: one row per kind, each defined in its own file of this folder.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "kbz/engine/step_kind.hpp"

namespace kbz {

// One declaration and one row per kind.
const StepKind& file_step_kind();
const StepKind& packages_step_kind();
const StepKind& command_step_kind();
const StepKind& service_step_kind();
const StepKind& wait_step_kind();
const StepKind& image_step_kind();
const StepKind& container_step_kind();
const StepKind& volume_step_kind();

const std::vector<const StepKind*>& step_kinds() {
  static const std::vector<const StepKind*> table = {
      &file_step_kind(), &packages_step_kind(), &command_step_kind(),   &service_step_kind(),
      &wait_step_kind(), &image_step_kind(),    &container_step_kind(), &volume_step_kind(),
  };
  return table;
}

const StepKind* find_step_kind(std::string_view name) {
  const auto& t = step_kinds();
  const auto it = std::find_if(t.begin(), t.end(), [&](const StepKind* k) { return k->name() == name; });
  return it == t.end() ? nullptr : *it;
}

std::string step_kind_names() {
  std::vector<std::string_view> names;
  for (const auto* k : step_kinds()) names.push_back(k->name());
  return fmt::format("{}", fmt::join(names, ", "));
}

const std::vector<std::string>& common_step_keys() {
  static const std::vector<std::string> keys = {"id",    "title", "title_fr", "kind",
                                                "hosts", "when",  "notify",   "timeout"};
  return keys;
}

Result<std::string> render_check(const Step& step, const Module& module, const TemplateContext& ctx) {
  return step.kind->check(step, module, ctx);
}

Result<StepDecision> decide(const Step& step, const Module& module, const CheckOutput& checked,
                            const TemplateContext& ctx) {
  auto d = step.kind->decide(step, module, checked, ctx);
  if (d && d->change) {
    d->apply.privilege = Privilege::Root;
    if (d->apply.timeout.count() == 0)
      d->apply.timeout = Millis(static_cast<long long>(step.timeout_s) * 1000);
  }
  return d;
}

std::string wait_loop(const std::string& check, int timeout_s) {
  return fmt::format(
      "kbz_end=$(( $(date +%s) + {0} ))\n"
      "while ! ( {1}\n) >/dev/null 2>&1; do\n"
      "  if [ \"$(date +%s)\" -ge \"$kbz_end\" ]; then echo 'still not ready after {0} s'; ( {1}\n) 2>&1 | "
      "tail -n 5; exit 1; fi\n"
      "  sleep 1\n"
      "done\n",
      timeout_s, check);
}

}  // namespace kbz
