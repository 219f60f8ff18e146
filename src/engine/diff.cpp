#include "kbz/engine/diff.hpp"

#include <fmt/format.h>

#include <dtl/dtl.hpp>
#include <map>
#include <sstream>
#include <vector>

#include "kbz/core/secret.hpp"

namespace kbz {
namespace {
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}
}  // namespace

std::string unified_diff(const std::string& remote, const std::string& rendered, const std::string& path,
                         bool remote_exists) {
  if (remote == rendered && remote_exists) return {};
  // Mask before diffing: a changed secret then shows as an unchanged "***" line, never its old or new value.
  const auto a = split_lines(mask(remote)), b = split_lines(mask(rendered));
  dtl::Diff<std::string> diff(a, b);
  diff.onHuge();
  diff.compose();
  diff.composeUnifiedHunks();
  std::ostringstream out;
  out << fmt::format("--- {} (remote{})\n+++ {} (rendered)\n", path, remote_exists ? "" : ", absent", path);
  diff.printUnifiedFormat(out);
  if (!remote.empty() && remote.back() != '\n') out << "\\ No newline at end of remote file\n";
  return out.str();
}

std::vector<std::string> secret_line_prefixes(const std::string& rendered_with_markers,
                                              const std::string& marker) {
  std::vector<std::string> out;
  for (const auto& line : split_lines(rendered_with_markers)) {
    const auto at = line.find(marker);
    if (at == std::string::npos) continue;
    // A secret at the very start of a line has no prefix to find it by: the whole line is then hidden.
    out.push_back(line.substr(0, at));
  }
  return out;
}

std::pair<std::string, std::string> hide_secret_lines(const std::string& remote, const std::string& rendered,
                                                      const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return {remote, rendered};
  const auto prefix_of = [&](const std::string& line) -> const std::string* {
    for (const auto& p : prefixes)
      if (line.starts_with(p)) return &p;
    return nullptr;
  };
  std::map<std::string, std::string> remote_values;  // prefix -> first remote line with it
  for (const auto& l : split_lines(remote))
    if (const auto* p = prefix_of(l)) remote_values.try_emplace(*p, l);
  const auto hide = [&](const std::string& text, bool rendered_side) {
    std::string out;
    for (const auto& l : split_lines(text)) {
      const auto* p = prefix_of(l);
      if (!p) {
        out += l + "\n";
        continue;
      }
      const auto it = remote_values.find(*p);
      const bool changes = rendered_side && (it == remote_values.end() || it->second != l);
      out += *p + (changes ? "(secret, changes)" : "(secret)") + "\n";
    }
    return out;
  };
  return {hide(remote, false), hide(rendered, true)};
}

}  // namespace kbz
