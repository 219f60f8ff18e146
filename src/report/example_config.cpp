#include "kbz/report/example_config.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "kbz/core/atomic_file.hpp"

namespace kbz {
namespace fs = std::filesystem;

namespace {

// YAML markers are comments in a YAML file; the text is the docs' markers so one merge function serves both.
std::string comment_marker(std::string_view m) { return "# " + std::string(m); }

std::string yaml_scalar(const SettingSpec& s, const std::string& v) {
  if (s.type == SettingType::Integer || s.type == SettingType::Boolean) return v;
  return nlohmann::json(v).dump();  // a JSON string is a valid YAML double-quoted scalar
}

std::string yaml_value(const SettingSpec& s) {
  if (s.type != SettingType::List)
    return s.default_value.empty() ? "\"\"" : yaml_scalar(s, s.default_value[0]);
  std::string o = "[";
  for (size_t i = 0; i < s.default_value.size(); ++i)
    o += (i ? ", " : "") + nlohmann::json(s.default_value[i]).dump();
  return o + "]";
}

}  // namespace

std::string render_example_block(const std::vector<Module>& modules) {
  std::string o = comment_marker(kGeneratedBegin) + "\n";
  o += "# Rendered by `kbz-install docs` from modules/*/module.yaml: do not edit between the markers.\n";
  // Every module's images in one map (a key repeated in YAML is refused by kbz-install's reader); an image
  // several modules use (haproxy) is one key, since images.<name> sets it for all of them.
  std::map<std::string, std::pair<std::string, std::vector<int>>> images;
  for (const auto& m : modules)
    for (const auto& [name, ref] : m.images) {
      auto& [first_ref, users] = images.try_emplace(name, ref, std::vector<int>{}).first->second;
      users.push_back(m.number);
    }
  if (!images.empty())
    o += "\n# Container images, pinned (a version tag or @sha256:; never :latest).\nimages:\n";
  for (const auto& [name, used] : images) {
    std::string who;
    for (int n : used.second) who += (who.empty() ? "" : ", ") + std::to_string(n);
    o += fmt::format("  {}: {}    # module{} {}\n", name, nlohmann::json(used.first).dump(),
                     used.second.size() > 1 ? "s" : "", who);
  }
  for (const auto& m : modules) {
    if (m.settings.empty()) continue;
    o += fmt::format("\n# --- Module {} — {} ---\n", m.number, m.title_fr);
    // Dotted keys become nested maps; keys sharing a prefix are written under one parent, in module order.
    std::vector<std::string> open;  // the parent path currently written
    for (const auto& s : m.settings) {
      std::vector<std::string> parts;
      for (size_t a = 0, b; a <= s.key.size(); a = b + 1) {
        b = s.key.find('.', a);
        if (b == std::string::npos) b = s.key.size();
        parts.push_back(s.key.substr(a, b - a));
      }
      const std::vector<std::string> parents(parts.begin(), parts.end() - 1);
      size_t same = 0;
      while (same < open.size() && same < parents.size() && open[same] == parents[same]) ++same;
      open.resize(same);
      for (size_t d = same; d < parents.size(); ++d) {
        o += fmt::format("{}{}:\n", std::string(2 * d, ' '), parents[d]);
        open.push_back(parents[d]);
      }
      const std::string indent(2 * parents.size(), ' ');
      if (!s.doc_fr.empty()) o += fmt::format("{}# {}\n", indent, s.doc_fr);
      o += fmt::format("{}{}: {}\n", indent, parts.back(), yaml_value(s));
    }
  }
  o += comment_marker(kGeneratedEnd) + "\n";
  return o;
}

Result<DocUpdate> plan_example_update(const std::vector<Module>& modules, const std::string& path) {
  DocUpdate u;
  u.path = path;
  const std::string block = render_example_block(modules);
  std::error_code ec;
  std::string existing;
  if (!fs::exists(path, ec)) {
    u.change = DocChange::Created;
    u.content =
        "# kbz.yaml example: every key with its default. Copy to kbz.yaml and change what you need.\n" +
        block;
  } else {
    auto text = read_text_file(path);
    if (!text) return std::unexpected(text.error());
    existing = *text;
    // The markers are YAML comments here; merge on the comment form so the docs' rules (one pair, in order)
    // hold.
    auto merged = merge_generated(existing, block, path, comment_marker(kGeneratedBegin),
                                  comment_marker(kGeneratedEnd));
    if (!merged) return std::unexpected(merged.error());
    u.content = std::move(*merged);
    u.change = u.content == existing ? DocChange::Unchanged : DocChange::Updated;
  }
  // The example must be a kbz.yaml kbz-install accepts, holding exactly the defaults.
  const auto declared = declared_settings(modules);
  auto parsed = parse_settings(u.content, path, declared);
  if (!parsed) return std::unexpected(parsed.error());
  auto defaults = parse_settings("", "(defaults)", declared);
  if (!defaults) return std::unexpected(defaults.error());
  for (const auto& [key, value] : defaults->raw)
    if (auto it = parsed->raw.find(key); it == parsed->raw.end() || it->second != value)
      return fail(
          ErrorKind::Input,
          fmt::format("{}: `{}` is {} in the example but {} by default; the example must show the defaults",
                      path, key, it == parsed->raw.end() ? "missing" : "'" + it->second + "'",
                      "'" + value + "'"));
  return u;
}

}  // namespace kbz
