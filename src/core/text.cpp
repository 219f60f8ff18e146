#include "kbz/core/text.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <cctype>

namespace kbz {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view text, std::string_view chars) {
  const auto b = text.find_first_not_of(chars);
  if (b == std::string_view::npos) return {};
  return text.substr(b, text.find_last_not_of(chars) - b + 1);
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  for (auto line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.emplace_back(line);
  }
  if (text.back() == '\n') out.pop_back();  // the final newline ends the last line, it does not start one
  return out;
}

std::string first_line(std::string_view text) {
  auto lines = lines_of(text);
  return lines.empty() ? std::string{} : lines.front();
}

std::string word_value(std::string_view line, std::string_view name) {
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t end = i;
    while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
    const std::string_view word = line.substr(i, end - i);
    if (word.size() > name.size() && word.starts_with(name) && word[name.size()] == '=')
      return std::string(word.substr(name.size() + 1));
    i = end;
  }
  return {};
}

std::string tail_lines(std::string_view text, size_t n) {
  std::vector<std::string> kept;
  for (auto& l : lines_of(text))
    if (!l.empty()) kept.push_back(std::move(l));
  const size_t from = kept.size() > n ? kept.size() - n : 0;
  std::string out;
  for (size_t i = from; i < kept.size(); ++i) out += (out.empty() ? "" : " | ") + kept[i];
  return out;
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shell_word(std::string_view s) {
  static constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,@+";
  if (!s.empty() && s.find_first_not_of(kPlain) == std::string_view::npos) return std::string(s);
  return shell_quote(s);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

bool valid_ipv4(std::string_view text) {
  const std::string s(text);
  unsigned char buf[4];
  return inet_pton(AF_INET, s.c_str(), buf) == 1;
}

}  // namespace kbz
