#include "kbz/report/text_format.hpp"

#include <fmt/format.h>

#include <charconv>

namespace kbz {
namespace chr = std::chrono;

namespace {

bool read_int(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return ec == std::errc() && p == s.data() + pos + len;
}

// Last Sunday of `m` in year `y`, at 01:00 UTC: when EU summer time starts (March) and ends (October).
chr::sys_seconds eu_switch(int y, unsigned m) {
  const chr::sys_days last{chr::year{y} / chr::month{m} / chr::last};
  const auto back = (chr::weekday{last} - chr::Sunday).count();
  return chr::sys_seconds{(last - chr::days{back}).time_since_epoch()} + chr::hours{1};
}

struct Civil {
  int y;
  unsigned mo, d;
  long h, mi, s;
};

Civil civil(chr::sys_seconds t) {
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{t - day};
  return {int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()), long(hms.hours().count()),
          long(hms.minutes().count()), long(hms.seconds().count())};
}

}  // namespace

Result<chr::sys_seconds> parse_utc(std::string_view s) {
  int y, mo, d, h, mi, sec;
  const bool shape = s.size() >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') &&
                     s[13] == ':' && s[16] == ':';
  if (!shape || !read_int(s, 0, 4, y) || !read_int(s, 5, 2, mo) || !read_int(s, 8, 2, d) ||
      !read_int(s, 11, 2, h) || !read_int(s, 14, 2, mi) || !read_int(s, 17, 2, sec))
    return fail(ErrorKind::Input, fmt::format("not an ISO 8601 UTC time: '{}'", s));
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    rest.remove_prefix(i);
  }
  if (!(rest.empty() || rest == "Z" || rest == "+00:00"))
    return fail(ErrorKind::Input, fmt::format("not a UTC time (expected Z): '{}'", s));
  const chr::year_month_day ymd{chr::year{y}, chr::month(unsigned(mo)), chr::day(unsigned(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60)
    return fail(ErrorKind::Input, fmt::format("invalid date: '{}'", s));
  return chr::sys_seconds{chr::sys_days{ymd}.time_since_epoch()} + chr::hours{h} + chr::minutes{mi} +
         chr::seconds{sec};
}

std::string format_utc_iso(chr::sys_seconds t) {
  const Civil c = civil(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.mo, c.d, c.h, c.mi, c.s);
}

std::string now_utc_iso() { return format_utc_iso(chr::floor<chr::seconds>(chr::system_clock::now())); }

std::string format_utc_human(chr::sys_seconds t) {
  const Civil c = civil(t);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", c.y, c.mo, c.d, c.h, c.mi, c.s);
}

std::string format_paris(chr::sys_seconds t) {
  const int y = civil(t).y;
  const bool summer = t >= eu_switch(y, 3) && t < eu_switch(y, 10);
  const int offset = summer ? 2 : 1;
  const Civil c = civil(t + chr::hours{offset});
  return fmt::format("{:02}/{:02}/{:04} {:02}:{:02}:{:02} (Europe/Paris, UTC+0{}:00)", c.d, c.mo, c.y, c.h, c.mi,
                     c.s, offset);
}

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
    return tenths % 10 == 0 ? fmt::format("{} s", tenths / 10) : fmt::format("{},{} s", tenths / 10, tenths % 10);
  }
  const long long s = (ms + 500) / 1000;
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
}

std::string md_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += "<br>";
    else if (c == '\r' || c == '\t') out += ' ';
    else out += c;
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

std::string md_fence(std::string_view text) { return std::string(std::max<size_t>(3, longest_backtick_run(text) + 1), '`'); }

std::string md_code(std::string_view text) {
  const std::string delim(longest_backtick_run(text) + 1, '`');
  // CommonMark strips one leading/trailing space, which lets a value start or end with a backtick.
  const bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
  std::string out = delim + (pad ? " " : "");
  for (char c : text) out += (c == '\n' || c == '|') ? (c == '|' ? std::string("\\|") : std::string(" ")) : std::string(1, c);
  return out + (pad ? " " : "") + delim;
}

std::string format_percent_fr(int part, int total) {
  if (total <= 0) return "—";
  const long long tenths = (static_cast<long long>(part) * 1000 + total / 2) / total;
  return tenths % 10 == 0 ? fmt::format("{} %", tenths / 10) : fmt::format("{},{} %", tenths / 10, tenths % 10);
}

}  // namespace kbz
