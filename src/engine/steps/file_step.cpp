// kind: file — a file rendered from a Mustache template (or inline content), with mode and owner. The check
// hashes the remote copy; the content travels on stdin into a temp file in the same folder, renamed over the
// old one (a reader never sees half a file, secrets never reach argv).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <regex>

#include "kbz/core/text.hpp"
#include "kbz/engine/diff.hpp"
#include "kbz/engine/file_probe.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

// Compiled once: these run for every file step on every host, and building a std::regex costs far more
// than matching one (perf put it at a third of a no-op re-apply's client CPU).
bool is_numeric_owner(const std::string& owner) {
  static const std::regex numeric("[0-9]+:[0-9]+");
  return std::regex_match(owner, numeric);
}
bool valid_owner(const std::string& owner) {
  static const std::regex named("[a-z_][a-z0-9_.-]*:[a-z_][a-z0-9_.-]*");
  return is_numeric_owner(owner) || std::regex_match(owner, named);
}

struct FileSpec : StepSpec {
  std::string path, template_name, content, mode = "0644", owner = "root:root";
};

std::string normalize_mode(const std::string& mode) {
  const auto first = mode.find_first_not_of('0');
  return first == std::string::npos ? "0" : mode.substr(first);
}

class FileKind final : public StepKind {
 public:
  std::string_view name() const override { return "file"; }
  std::vector<std::string> keys() const override { return {"path", "template", "content", "mode", "owner"}; }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto spec = std::make_shared<FileSpec>();
    const std::string what = fmt::format("step '{}'", step.id);
    spec->path = f.required("path");
    if (!spec->path.empty() && spec->path.front() != '/' && !spec->path.starts_with("{{"))
      f.error("path", fmt::format("{}: path must be absolute", what));
    spec->template_name = f.str("template");
    spec->content = f.str("content");
    if (spec->template_name.empty() == !f.has("content"))
      f.reader().error(f.node().Mark(),
                       fmt::format("{}: a file step needs exactly one of 'template' or 'content'", what));
    spec->mode = f.str("mode", spec->mode);
    if (!std::regex_match(spec->mode, std::regex("0?[0-7]{3,4}")))
      f.error("mode", fmt::format("{}: mode must be octal like \"0644\"", what));
    spec->owner = f.str("owner", spec->owner);
    // user:group names, numeric UID:GID (an account that exists only inside a container image), or a
    // template giving either (e.g. "{{settings.postgres.uid}}:{{settings.postgres.gid}}").
    if (spec->owner.find("{{") == std::string::npos && !valid_owner(spec->owner))
      f.error("owner", fmt::format("{}: owner must be user:group or UID:GID", what));
    step.spec = std::move(spec);
  }

  std::string validate(const Step& step, const Module& module) const override {
    const auto& s = step.spec_as<FileSpec>();
    if (!s.template_name.empty() && !module.templates.contains(s.template_name))
      return fmt::format("template '{}' not found in templates/", s.template_name);
    return {};
  }

  Result<std::string> check(const Step& step, const Module&, const TemplateContext& ctx) const override {
    auto path = rendered_path(step, ctx);
    if (!path) return path;
    // Two execs per file, no pipe: the hash line is "<64 hex>  -", cut client-side (a `| cut` was a third
    // process per file step, ~30 % of a file check's server CPU).
    return fmt::format(
        "kbz_p={}; if [ -f \"$kbz_p\" ]; then sha256sum < \"$kbz_p\"; stat -c '{}' \"$kbz_p\"; "
        "else echo absent; fi",
        shell_quote(*path), kFileStatFormat);
  }

  std::optional<std::string> probed_path(const Step& step, const TemplateContext& ctx) const override {
    auto path = rendered_path(step, ctx);
    if (!path || !file_probe_takes(*path)) return std::nullopt;  // check() reports it, or probes it alone
    return *path;
  }

  Result<StepDecision> decide(const Step& step, const Module& module, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    const auto& s = step.spec_as<FileSpec>();
    auto path = rendered_path(step, ctx);
    if (!path) return std::unexpected(path.error());
    const std::string source = source_of(s, module);
    const std::string name = s.template_name.empty() ? step.id : s.template_name;
    auto content = render_template(source, ctx, name);
    if (!content) return std::unexpected(content.error());
    StepDecision d;
    FileWrite w{*path, *content, false, {}};
    if (source.find("credentials.") != std::string::npos && !ctx.credentials.empty()) {
      // Render again with markers for the secrets: the lines they land on are hidden in plan diffs.
      constexpr const char* kMarker = "KBZSECRETMARKER7f3a";
      TemplateContext marked = ctx;
      for (auto& [key, value] : marked.credentials) value = kMarker;
      if (auto m = render_template(source, marked, name); m)
        w.secret_prefixes = secret_line_prefixes(*m, kMarker);
    }
    const auto lines = lines_of(c.output);
    const std::string want_mode = normalize_mode(s.mode);
    auto want_owner = render_command(s.owner, ctx, fmt::format("step '{}' owner", step.id));
    if (!want_owner) return std::unexpected(want_owner.error());
    if (!valid_owner(*want_owner))
      return fail(ErrorKind::Input,
                  fmt::format("step '{}': owner '{}' is not user:group or UID:GID", step.id, *want_owner));
    std::vector<std::string> why;
    if (lines.empty() || c.exit_status != 0)
      return fail(ErrorKind::Remote, fmt::format("check of {} failed: {}", *path, c.output));
    if (lines[0] == "absent") {
      why.push_back("file absent");
    } else {
      if (lines.size() < 2)
        return fail(ErrorKind::Remote, fmt::format("unexpected check output for {}: {}", *path, c.output));
      w.remote_exists = true;
      if (lines[0].substr(0, 64) != sha256_hex(*content)) why.push_back("content differs");
      const auto space = lines[1].find(' ');
      const std::string mode = lines[1].substr(0, space);
      std::string owner = space == std::string::npos ? "" : lines[1].substr(space + 1);
      std::string numeric;  // "%u:%g", the third field (older check outputs have two)
      if (const auto sp = owner.find(' '); sp != std::string::npos) {
        numeric = owner.substr(sp + 1);
        owner.resize(sp);
      }
      if (mode != want_mode) why.push_back(fmt::format("mode {} -> {}", mode, want_mode));
      const std::string& have = is_numeric_owner(*want_owner) ? numeric : owner;
      if (have != *want_owner) why.push_back(fmt::format("owner {} -> {}", have, *want_owner));
    }
    d.file = std::move(w);
    if (why.empty()) return d;
    d.change = true;
    d.message = fmt::format("{}", fmt::join(why, ", "));
    d.apply.command = fmt::format(
        "set -e; kbz_p={0}; kbz_d=$(dirname \"$kbz_p\"); mkdir -p \"$kbz_d\"; "
        "kbz_t=$(mktemp \"$kbz_d/.kbz-XXXXXX\"); trap 'rm -f \"$kbz_t\"' EXIT; "
        "cat > \"$kbz_t\"; chmod {1} \"$kbz_t\"; chown {2} \"$kbz_t\"; mv -f \"$kbz_t\" \"$kbz_p\"; trap - "
        "EXIT",
        shell_quote(*path), want_mode, shell_quote(*want_owner));
    d.apply.stdin_data = *content;
    return d;
  }

  std::string describe_fr(const Step& step, const Module&) const override {
    return md_code(step.spec_as<FileSpec>().path);
  }

  std::optional<DocFile> doc_file(const Step& step) const override {
    const auto& s = step.spec_as<FileSpec>();
    return DocFile{s.path, s.mode, s.owner,
                   s.template_name.empty() ? std::string("contenu en ligne") : md_code(s.template_name)};
  }

 private:
  static Result<std::string> rendered_path(const Step& step, const TemplateContext& ctx) {
    return render_command(step.spec_as<FileSpec>().path, ctx, fmt::format("step '{}' path", step.id));
  }
  static std::string source_of(const FileSpec& s, const Module& module) {
    if (s.template_name.empty()) return s.content;
    const auto it = module.templates.find(s.template_name);
    return it == module.templates.end() ? std::string{} : it->second;
  }
};

}  // namespace

const StepKind& file_step_kind() {
  static const FileKind kind;
  return kind;
}

}  // namespace kbz
