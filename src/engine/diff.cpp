#include "kbz/engine/diff.hpp"

#include <dtl/dtl.hpp>
#include <fmt/format.h>

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

}  // namespace kbz
