#include <gtest/gtest.h>

#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

TEST(ReportTextFormat, ParisTimeFollowsEuSummerTime) {
  // 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC.
  EXPECT_EQ(format_paris(*parse_utc("2026-03-29T00:59:59Z")),
            "29/03/2026 01:59:59 (Europe/Paris, UTC+01:00)");
  EXPECT_EQ(format_paris(*parse_utc("2026-03-29T01:00:00Z")),
            "29/03/2026 03:00:00 (Europe/Paris, UTC+02:00)");
  EXPECT_EQ(format_paris(*parse_utc("2026-10-25T00:59:59Z")),
            "25/10/2026 02:59:59 (Europe/Paris, UTC+02:00)");
  EXPECT_EQ(format_paris(*parse_utc("2026-10-25T01:00:00Z")),
            "25/10/2026 02:00:00 (Europe/Paris, UTC+01:00)");
  EXPECT_EQ(format_paris(*parse_utc("2025-12-31T23:30:00Z")),
            "01/01/2026 00:30:00 (Europe/Paris, UTC+01:00)");
}

TEST(ReportTextFormat, UtcRoundTripAndBadInput) {
  auto t = parse_utc("2025-11-25T14:03:11.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_utc_iso(*t), "2025-11-25T14:03:11Z");
  EXPECT_EQ(format_utc_human(*t), "2025-11-25 14:03:11 UTC");
  EXPECT_FALSE(parse_utc("2025-11-25T14:03:11+01:00"));  // not UTC
  EXPECT_FALSE(parse_utc("2025-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_utc("yesterday"));
  EXPECT_EQ(format_date_fr("yesterday"), "yesterday");  // shown as it is, never dropped
  EXPECT_EQ(format_date_fr(""), "inconnue");
}

TEST(ReportTextFormat, DurationsAndPercentages) {
  EXPECT_EQ(format_duration_fr(std::chrono::milliseconds{850}), "850 ms");
  EXPECT_EQ(format_duration_fr(std::chrono::milliseconds{12340}), "12,3 s");
  EXPECT_EQ(format_duration_fr(std::chrono::milliseconds{10002}), "10 s");
  EXPECT_EQ(format_duration_fr(std::chrono::milliseconds{125000}), "2 min 05 s");
  EXPECT_EQ(format_duration_fr(std::chrono::milliseconds{3725000}), "1 h 02 min");
  EXPECT_EQ(format_percent_fr(48, 48), "100 %");
  EXPECT_EQ(format_percent_fr(2, 3), "66,7 %");
  EXPECT_EQ(format_percent_fr(0, 0), "—");
}

TEST(ReportTextFormat, MarkdownEscaping) {
  EXPECT_EQ(md_cell("a|b\nc"), "a\\|b<br>c");
  EXPECT_EQ(md_cell(""), "—");
  EXPECT_EQ(md_code("x"), "`x`");
  EXPECT_EQ(md_code("a`b"), "``a`b``");
  EXPECT_EQ(md_code("grep a|b"), "`grep a\\|b`");
  EXPECT_EQ(md_fence("echo ```"), "````");
  EXPECT_EQ(md_fence("ls"), "```");
}

}  // namespace
}  // namespace kbz

namespace kbz {
namespace {
TEST(ReportTextFormat, BlockScalarsLoseOnlyTheirFinalNewlines) {
  EXPECT_EQ(without_final_newlines("a\nb\n"), "a\nb");
  EXPECT_EQ(without_final_newlines("a\n\n"), "a");
  EXPECT_EQ(without_final_newlines("\na"), "\na");
}
}  // namespace
}  // namespace kbz
