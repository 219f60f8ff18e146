// kind: packages — Debian packages installed, optionally at pinned versions (name=version).
#pragma once
#include <string>
#include <vector>

namespace kbz {

// The apply, exposed for fixture tests: install at pinned versions, retrying fetch errors after
// `apt-get update` (max 3); any other error fails at once.
std::string apt_install_command(const std::vector<std::string>& packages);

}  // namespace kbz
