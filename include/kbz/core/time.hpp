// Time formatting shared by logs, run state, reports and SUIVI. Europe/Paris comes from the system's tz
// database through Howard Hinnant's date library (Debian's libhowardhinnant-date-dev): GCC 12's <chrono>
// has no time zones yet.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "kbz/core/error.hpp"

namespace kbz {

// "2026-11-27T22:01:28Z" (seconds precision; a fractional part and a "+00:00" suffix are accepted).
Result<std::chrono::sys_seconds> parse_utc(std::string_view iso);
std::string format_utc_iso(std::chrono::sys_seconds t);
std::string now_utc_iso();

// "2026-11-27 22:01:28 UTC"
std::string format_utc_human(std::chrono::sys_seconds t);
// "27/11/2026 23:01:28 (Europe/Paris, UTC+01:00)"
std::string format_paris(std::chrono::sys_seconds t);

}  // namespace kbz
