// Unified diff (a few lines of context) between a file on the host and what the module renders, for `plan`.
#pragma once
#include <string>

namespace kbz {
// Masked with kbz::mask(): a secret in either version shows as ***. Empty when both are equal.
std::string unified_diff(const std::string& remote, const std::string& rendered, const std::string& path,
                         bool remote_exists = true);
}  // namespace kbz
