// kind: command — a read-only `check` (exit 0 = nothing to do) and the `apply` run when it is not met. Both
// are templates; a secret may never appear in either (argv is visible in ps). What a command needs that is
// secret (a password to set, SQL creating a user) goes on its stdin: `stdin` / `stdin_template` for the
// apply, `check_stdin` / `check_stdin_template` for the check (a heredoc inside the batch, which itself
// travels on stdin). They are rendered like files: credentials allowed.
#include <fmt/format.h>

#include "kbz/core/text.hpp"
#include "kbz/engine/batch.hpp"
#include "kbz/engine/step_kind.hpp"

namespace kbz {
namespace {

struct CommandSpec : StepSpec {
  std::string check, apply;
  std::string stdin_text, stdin_template;              // apply's stdin: inline template or templates/ file
  std::string check_stdin_text, check_stdin_template;  // the check's stdin
};

// The template text of an inline or file stdin ("" = none).
std::string stdin_source(const std::string& inline_text, const std::string& template_name, const Module& m) {
  if (!template_name.empty()) {
    const auto it = m.templates.find(template_name);
    return it == m.templates.end() ? std::string{} : it->second;
  }
  return inline_text;
}

class CommandKind final : public StepKind {
 public:
  std::string_view name() const override { return "command"; }
  // rolling: every change of the step goes one host at a time (e.g. a cluster node started or joined).
  KindTraits traits() const override { return {.takes_rolling = true}; }
  std::vector<std::string> keys() const override {
    return {"check", "apply", "stdin", "stdin_template", "check_stdin", "check_stdin_template"};
  }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto spec = std::make_shared<CommandSpec>();
    spec->check = f.required("check");
    spec->apply = f.required("apply");
    spec->stdin_text = f.str("stdin");
    spec->stdin_template = f.str("stdin_template");
    spec->check_stdin_text = f.str("check_stdin");
    spec->check_stdin_template = f.str("check_stdin_template");
    if (f.has("stdin") && f.has("stdin_template"))
      f.error("stdin_template",
              fmt::format("step '{}': stdin and stdin_template exclude each other", step.id));
    if (f.has("check_stdin") && f.has("check_stdin_template"))
      f.error("check_stdin_template",
              fmt::format("step '{}': check_stdin and check_stdin_template exclude each other", step.id));
    step.spec = std::move(spec);
  }

  std::string validate(const Step& step, const Module& module) const override {
    const auto& s = step.spec_as<CommandSpec>();
    for (const auto* t : {&s.stdin_template, &s.check_stdin_template})
      if (!t->empty() && !module.templates.contains(*t))
        return fmt::format("template '{}' not found in templates/", *t);
    return {};
  }

  Result<std::string> check(const Step& step, const Module& module,
                            const TemplateContext& ctx) const override {
    const auto& s = step.spec_as<CommandSpec>();
    auto cmd = render_command(s.check, ctx, fmt::format("step '{}' check", step.id));
    if (!cmd) return cmd;
    const std::string source = stdin_source(s.check_stdin_text, s.check_stdin_template, module);
    if (source.empty()) return cmd;
    TemplateContext plain = ctx;  // stdin content is a file's content, not shell: facts by value
    plain.facts_as_shell_vars = false;
    auto data = render_template(source, plain, fmt::format("step '{}' check_stdin", step.id));
    if (!data) return std::unexpected(data.error());
    // A quoted heredoc: nothing in the data is expanded by the shell; a random end marker it cannot hold.
    const std::string end = new_batch_marker();
    return fmt::format("{{ {}\n}} <<'{}'\n{}{}{}\n", *cmd, end, *data, data->ends_with('\n') ? "" : "\n",
                       end);
  }

  Result<StepDecision> decide(const Step& step, const Module& module, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    const auto& s = step.spec_as<CommandSpec>();
    StepDecision d;
    if (c.exit_status == 0) return d;
    d.change = true;
    d.existing = step.rolling.has_value();  // what the engine rolls
    auto apply = render_command(s.apply, ctx, fmt::format("step '{}' apply", step.id));
    if (!apply) return std::unexpected(apply.error());
    d.apply.command = *apply;
    if (const std::string source = stdin_source(s.stdin_text, s.stdin_template, module); !source.empty()) {
      auto data = render_template(source, ctx, fmt::format("step '{}' stdin", step.id));
      if (!data) return std::unexpected(data.error());
      d.apply.stdin_data = *data;
    }
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
    std::vector<std::pair<std::string, std::string>> out = {{"vérification", s.check}};
    if (!s.check_stdin_template.empty())
      out.emplace_back("entrée de la vérification : modèle", s.check_stdin_template);
    else if (!s.check_stdin_text.empty())
      out.emplace_back("entrée de la vérification", s.check_stdin_text);
    out.emplace_back("application", s.apply);
    if (!s.stdin_template.empty())
      out.emplace_back("entrée de l'application : modèle", s.stdin_template);
    else if (!s.stdin_text.empty())
      out.emplace_back("entrée de l'application", s.stdin_text);
    return out;
  }
};

}  // namespace

const StepKind& command_step_kind() {
  static const CommandKind kind;
  return kind;
}

}  // namespace kbz
