#include <gtest/gtest.h>

#include "kbz/inventory/table.hpp"

namespace kbz {
namespace {

TEST(DisplayWidth, CountsCharactersNotBytes) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("réplica"), 7u);
  EXPECT_EQ(display_width("nœud…"), 5u);
  EXPECT_EQ(display_width("e\xCC\x81"), 1u);  // e + combining acute accent
}

TEST(TruncateDisplay, NeverCutsInsideACharacter) {
  EXPECT_EQ(truncate_display("short", 40), "short");
  EXPECT_EQ(truncate_display("abcdef", 4), "abc…");
  // "é" sits exactly at the cut: it is kept whole, or dropped whole, never split.
  EXPECT_EQ(truncate_display("abcé€xyz", 5), "abcé…");
  EXPECT_EQ(truncate_display("ééééé", 3), "éé…");
  EXPECT_EQ(truncate_display("ab cdef", 4), "ab…");  // no dangling space before the ellipsis
  const std::string notes = "Worker K3s supplémentaire (scalabilité / réserve)";
  const auto cut = truncate_display(notes, 40);
  EXPECT_LE(display_width(cut), 40u);
  EXPECT_EQ(cut, "Worker K3s supplémentaire (scalabilité…");
}

TEST(HostTable, AlignedOnDisplayWidth) {
  Host a;
  a.hostname = "redis-01";
  a.address = "10.0.0.123";
  a.user = "root";
  a.pool = "p";
  a.role = "redis";
  a.subrole = "master";
  a.notes = "exposé";
  Host b = a;
  b.hostname = "queue-0001";
  b.address = "";
  b.notes = "nœud 1";
  const auto table = format_host_table({a, b});
  EXPECT_EQ(table,
            "HOSTNAME    ADDRESS     USER  POOL  ROLE   SUBROLE  NOTES\n"
            "redis-01    10.0.0.123  root  p     redis  master   exposé\n"
            "queue-0001  -           root  p     redis  master   nœud 1\n");
}

}  // namespace
}  // namespace kbz
