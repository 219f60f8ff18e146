// Small formatting helpers shared by the French report, SUIVI_INSTALLATION_V2.md and the generated docs.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "kbz/core/error.hpp"
#include "kbz/core/time.hpp"

namespace kbz {

// Both, for report headers: "27/11/2026 23:01:28 (Europe/Paris, UTC+01:00) — 2026-11-27 22:01:28 UTC".
// An unparsable timestamp is shown as it is (never dropped).
std::string format_date_fr(std::string_view iso_utc);

// Short form for tables: "27/11/2026 23:01 (Paris)"; "—" when empty.
std::string format_date_short_fr(std::string_view iso_utc);

// "850 ms", "12,3 s", "2 min 05 s", "1 h 02 min".
std::string format_duration_fr(std::chrono::milliseconds d);

// One Markdown table cell: '|' escaped, newlines folded, empty shown as "—".
std::string md_cell(std::string_view text);
// A code fence longer than any backtick run inside `text`, so a command can never close its own block.
std::string md_fence(std::string_view text);
// A block scalar from YAML (`|`) ends with a newline; inside a code fence it would show as an empty line.
std::string without_final_newlines(std::string_view text);
// Inline code for a short value: `value`, with a longer backtick delimiter when needed.
std::string md_code(std::string_view text);

// Percentage with one decimal, French style: "87,5 %"; "—" when total is 0.
std::string format_percent_fr(int part, int total);

}  // namespace kbz
