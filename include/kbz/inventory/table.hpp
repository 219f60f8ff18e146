// The inventory as people read it: an aligned table whose widths count characters, not bytes (NOTES is
// French UTF-8 text, and a cut must never split a multi-byte character).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kbz/inventory/inventory.hpp"

namespace kbz {

// Display width: code points, combining marks (U+0300..U+036F) count zero.
size_t display_width(std::string_view utf8);
// At most max_width display characters; when cut, the last one is "…". Cuts only between characters.
std::string truncate_display(std::string_view utf8, size_t max_width);

// HOSTNAME ADDRESS USER POOL ROLE SUBROLE NOTES (notes cut to notes_width), one line per host.
std::string format_host_table(const std::vector<Host>& hosts, size_t notes_width = 40);

}  // namespace kbz
