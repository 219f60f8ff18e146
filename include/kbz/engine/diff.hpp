// Unified diff (a few lines of context) between a file on the host and what the module renders, for `plan`.
#pragma once
#include <string>
#include <vector>

namespace kbz {
// Masked with kbz::mask(): a secret in either version shows as ***. Empty when both are equal.
std::string unified_diff(const std::string& remote, const std::string& rendered, const std::string& path,
                         bool remote_exists = true);

// Lines of a file that carry a secret, told by what precedes it (`requirepass "`): from a render of the
// template with every credential replaced by a marker. The remote file may hold a secret this run does not
// know (credentials/ lost, rotated): the Masker cannot hide that one, these prefixes can.
std::vector<std::string> secret_line_prefixes(const std::string& rendered_with_markers,
                                              const std::string& marker);

// Both versions with the rest of every secret line replaced: "(secret)", or "(secret, changes)" on the
// rendered side when that line's value differs from the remote one. Applied before unified_diff.
std::pair<std::string, std::string> hide_secret_lines(const std::string& remote, const std::string& rendered,
                                                      const std::vector<std::string>& prefixes);
}  // namespace kbz
