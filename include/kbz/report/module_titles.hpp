// The installation's module list, for SUIVI and "Prochaines étapes" when a module definition cannot be loaded
// (e.g. a later module not written yet). Titles from the team's plan (facts §3–§10).
#pragma once
#include <string>

namespace kbz {

inline constexpr int kFirstModule = 2;
inline constexpr int kLastModule = 9;

// French title of module N (2..9); "" outside that range.
std::string builtin_module_title(int number);

}  // namespace kbz
