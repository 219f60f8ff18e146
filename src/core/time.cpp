#include "kbz/core/time.hpp"

#include <date/tz.h>
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

struct Civil {
  int y;
  unsigned mo, d;
  long h, mi, s;
};

template <class Duration>
Civil civil(chr::time_point<chr::system_clock, Duration> t) {
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{chr::floor<chr::seconds>(t - day)};
  return {int(ymd.year()),           unsigned(ymd.month()),       unsigned(ymd.day()),
          long(hms.hours().count()), long(hms.minutes().count()), long(hms.seconds().count())};
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
  static const date::time_zone* paris = date::locate_zone("Europe/Paris");
  const auto info = paris->get_info(t);
  const long offset_min = chr::duration_cast<chr::minutes>(info.offset).count();
  // The local wall clock as a sys_time value, so the same civil() split serves both.
  const Civil c = civil(chr::sys_seconds{t + info.offset});
  return fmt::format("{:02}/{:02}/{:04} {:02}:{:02}:{:02} (Europe/Paris, UTC{}{:02}:{:02})", c.d, c.mo, c.y,
                     c.h, c.mi, c.s, offset_min < 0 ? '-' : '+', std::abs(offset_min) / 60,
                     std::abs(offset_min) % 60);
}

}  // namespace kbz
