// Small text helpers shared by the inventory parser and its table: the file is free-form French UTF-8
// (NOTES), so every width and cut is counted in characters, never bytes.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kbz/core/text.hpp"  // split, valid_ipv4

namespace kbz::inventory_text {

using kbz::split;
using kbz::valid_ipv4;

std::string_view trim_spaces(std::string_view text);  // ASCII spaces only: tabs are separators
bool is_blank(std::string_view text);                 // spaces and tabs only

bool valid_utf8(std::string_view text);
bool has_control(std::string_view text);  // C0 controls or DEL: terminal escapes, stray CR
// Invalid UTF-8 bytes and control characters -> U+FFFD, so JSON output never throws and a table printed on a
// terminal cannot carry escape sequences.
std::string sanitize_utf8(std::string_view text);

bool valid_hostname(std::string_view text);  // letters, digits, '-', '.'; no leading '-' or '.'
bool valid_user(std::string_view text);      // POSIX-ish login name
bool valid_name(std::string_view text);      // ROLE/POOL/SUBROLE: letters, digits, '-', '_', '.'

}  // namespace kbz::inventory_text
