#include "kbz/core/secret.hpp"

#include <gtest/gtest.h>

namespace kbz {
namespace {

TEST(Masker, MasksEveryOccurrenceLongestFirst) {
  Masker m;
  m.add("hunter2hunter2");
  m.add("hunter2hunter2-extended");
  EXPECT_EQ(m.mask("a hunter2hunter2-extended b hunter2hunter2 c"), "a *** b *** c");
}

TEST(Masker, IgnoresTooShortValues) {
  Masker m;
  m.add("ab");
  EXPECT_EQ(m.mask("abc"), "abc");
}

TEST(Secret, RegistersWithGlobalMasker) {
  Secret s("s3cr3t-value-xyz");
  EXPECT_EQ(mask("pw=s3cr3t-value-xyz;"), "pw=***;");
  EXPECT_EQ(s.reveal(), "s3cr3t-value-xyz");
}

}  // namespace
}  // namespace kbz
