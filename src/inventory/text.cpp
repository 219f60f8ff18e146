#include "inventory/text.hpp"

namespace kbz::inventory_text {

std::string_view trim_spaces(std::string_view text) { return trim(text, " "); }

bool is_blank(std::string_view text) { return text.find_first_not_of(" \t") == std::string_view::npos; }

namespace {
// ASCII only, whatever the process locale says.
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alnum(char c) { return is_digit(c) || is_lower(c) || (c >= 'A' && c <= 'Z'); }

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid (overlongs, surrogates
// and code points above U+10FFFF included).
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c == 0xE0) {
    len = 3;
    lo = 0xA0;
  } else if (c >= 0xE1 && c <= 0xEC)
    len = 3;
  else if (c == 0xED) {
    len = 3;
    hi = 0x9F;
  } else if (c >= 0xEE && c <= 0xEF)
    len = 3;
  else if (c == 0xF0) {
    len = 4;
    lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3)
    len = 4;
  else if (c == 0xF4) {
    len = 4;
    hi = 0x8F;
  } else
    return 0;
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return len;
}
}  // namespace

bool valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

bool has_control(std::string_view text) {
  for (const char c : text) {
    if (is_control(c)) return true;
  }
  return false;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence(text, i);
    if (n == 0 || (n == 1 && is_control(text[i]))) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool valid_hostname(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  if (text.front() == '-' || text.front() == '.') return false;
  for (const char c : text) {
    if (!is_alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

bool valid_user(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  if (!is_lower(text.front()) && text.front() != '_') return false;
  for (const char c : text) {
    if (!is_lower(c) && !is_digit(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

bool valid_name(std::string_view text) {
  for (const char c : text) {
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace kbz::inventory_text
