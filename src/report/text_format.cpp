#include "kbz/report/text_format.hpp"

#include <fmt/format.h>

#include <charconv>

#include "kbz/core/time.hpp"

namespace kbz {
namespace chr = std::chrono;

std::string format_date_fr(std::string_view iso_utc) {
  auto t = parse_utc(iso_utc);
  if (!t) return iso_utc.empty() ? std::string("inconnue") : std::string(iso_utc);
  return format_paris(*t) + " — " + format_utc_human(*t);
}

std::string format_date_short_fr(std::string_view iso_utc) {
  if (iso_utc.empty()) return "—";
  auto t = parse_utc(iso_utc);
  if (!t) return std::string(iso_utc);
  const std::string full = format_paris(*t);  // "dd/mm/yyyy hh:mm:ss (Europe/Paris, ...)"
  return full.substr(0, 16) + " (Paris)";
}

std::string format_duration_fr(chr::milliseconds d) {
  const long long ms = d.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) {
    const long long tenths = (ms + 50) / 100;
    return tenths % 10 == 0 ? fmt::format("{} s", tenths / 10)
                            : fmt::format("{},{} s", tenths / 10, tenths % 10);
  }
  const long long s = (ms + 500) / 1000;
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
}

std::string md_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += "<br>";
    else if (c == '\r' || c == '\t')
      out += ' ';
    else
      out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.empty()) return "—";
  return out;
}

namespace {
size_t longest_backtick_run(std::string_view text) {
  size_t best = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}
}  // namespace

std::string md_fence(std::string_view text) {
  return std::string(std::max<size_t>(3, longest_backtick_run(text) + 1), '`');
}

std::string without_final_newlines(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return std::string(text);
}

std::string md_code(std::string_view text) {
  const std::string delim(longest_backtick_run(text) + 1, '`');
  // CommonMark strips one leading/trailing space, which lets a value start or end with a backtick.
  const bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
  std::string out = delim + (pad ? " " : "");
  for (char c : text)
    out += (c == '\n' || c == '|') ? (c == '|' ? std::string("\\|") : std::string(" ")) : std::string(1, c);
  return out + (pad ? " " : "") + delim;
}

std::string format_percent_fr(int part, int total) {
  if (total <= 0) return "—";
  const long long tenths = (static_cast<long long>(part) * 1000 + total / 2) / total;
  return tenths % 10 == 0 ? fmt::format("{} %", tenths / 10)
                          : fmt::format("{},{} %", tenths / 10, tenths % 10);
}

}  // namespace kbz
