#include "kbz/inventory/table.hpp"

#include <algorithm>
#include <array>

namespace kbz {
namespace {

// Byte length of the UTF-8 character starting with lead byte c (the text is already valid UTF-8: the
// parser sanitizes every field; a stray continuation byte counts as one).
size_t char_length(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

bool is_combining(std::string_view ch) {
  // U+0300..U+036F are encoded CC 80 .. CD AF.
  if (ch.size() != 2) return false;
  const auto a = static_cast<unsigned char>(ch[0]), b = static_cast<unsigned char>(ch[1]);
  return a == 0xCC || (a == 0xCD && b <= 0xAF);
}

template <class F>
void for_each_char(std::string_view s, F&& f) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = std::min(char_length(static_cast<unsigned char>(s[i])), s.size() - i);
    if (!f(s.substr(i, n), i)) return;
    i += n;
  }
}

std::string pad(std::string_view s, size_t width) {
  std::string out(s);
  const size_t w = display_width(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

}  // namespace

size_t display_width(std::string_view utf8) {
  size_t width = 0;
  for_each_char(utf8, [&](std::string_view ch, size_t) {
    if (!is_combining(ch)) ++width;
    return true;
  });
  return width;
}

std::string truncate_display(std::string_view utf8, size_t max_width) {
  if (display_width(utf8) <= max_width) return std::string(utf8);
  if (max_width == 0) return {};
  // Keep max_width - 1 characters (and the combining marks that follow the last kept one), then "…".
  size_t width = 0, cut = 0;
  for_each_char(utf8, [&](std::string_view ch, size_t pos) {
    if (!is_combining(ch)) {
      if (width == max_width - 1) return false;
      ++width;
    }
    cut = pos + ch.size();
    return true;
  });
  std::string out(utf8.substr(0, cut));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "\xE2\x80\xA6";
}

std::string format_host_table(const std::vector<Host>& hosts, size_t notes_width) {
  using Row = std::array<std::string, 7>;
  std::vector<Row> rows;
  rows.push_back({"HOSTNAME", "ADDRESS", "USER", "POOL", "ROLE", "SUBROLE", "NOTES"});
  for (const auto& h : hosts) {
    rows.push_back({h.hostname, h.address.empty() ? "-" : h.address, h.user, h.pool, h.role, h.subrole,
                    truncate_display(h.notes, notes_width)});
  }
  std::array<size_t, 7> widths{};
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) widths[c] = std::max(widths[c], display_width(r[c]));
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      line += c + 1 < r.size() ? pad(r[c], widths[c] + 2) : r[c];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace kbz
