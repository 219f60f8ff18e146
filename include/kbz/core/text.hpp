// The one home for small string helpers (ccache's util/string.hpp): splitting, trimming, lines, shell
// quoting, hashing, IPv4 syntax. Depends on nothing above src/core. Joins use fmt::join.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace kbz {

// Every field, empty ones included: split("a,,b", ',') = {"a", "", "b"}; split("", ',') = {""}.
std::vector<std::string_view> split(std::string_view text, char sep);
// `chars` removed at both ends (default: ASCII spaces and tabs).
std::string_view trim(std::string_view text, std::string_view chars = " \t");
// Remote output as lines, a trailing '\r' removed (CRLF from a tty-less client); no empty last line for a
// final newline.
std::vector<std::string> lines_of(std::string_view text);
std::string first_line(std::string_view text);
// The last n non-empty lines joined with " | ": enough to say why without flooding the console (not masked).
std::string tail_lines(std::string_view text, size_t n = 6);
// The value of the first `name=value` word of a line of space-separated words (the one-line status the
// modules' helper scripts print: `role=master master_host=…`), "" when there is none.
std::string word_value(std::string_view line, std::string_view name);

// Single-quoted for sh: safe for any byte string.
std::string shell_quote(std::string_view s);
// Quoted only when needed, so usual paths stay readable in a command line shown to a person.
std::string shell_word(std::string_view s);

std::string sha256_hex(std::string_view data);

// Dotted quad, 0..255, no leading zeros (inet_pton's rules: "010.0.0.1" is refused).
bool valid_ipv4(std::string_view text);

}  // namespace kbz
