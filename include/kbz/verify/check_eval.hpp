// Turning one check's raw output into a result: pure, so it is tested on fixtures of real command output.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/results.hpp"

namespace kbz {

// Pass when exit status == expect_exit and expect_regex (ECMAScript, searched) matches the output; otherwise
// Fail, or Warn for a warning-severity check. value = first capture of value_regex, else the first non-empty
// output line; trimmed, cut to 80 characters, masked.
CheckResult evaluate_check(const VerifyCheck& check, const std::string& host, int exit_status,
                           const std::string& output);

// The shown value rule above, on its own (also used for version-* checks).
std::string measured_value(const VerifyCheck& check, const std::string& output);

// Compiles both regexes: a bad regex is a module load error, reported before anything runs.
Result<void> validate_check_regexes(const VerifyCheck& check, const std::string& origin);

// Checks whose id starts with "version-" report a component version (VerifyRun::versions_found).
bool is_version_check(const VerifyCheck& check);
std::string version_component(const VerifyCheck& check);  // component, else the id without "version-"
// Key in versions_found for each version check of the module: its component, unless two version checks share
// it (module 2: OS and kernel are both "Système"), then its title_fr so neither overwrites the other.
std::map<std::string, std::string> version_keys(const Module& module);

}  // namespace kbz
