#include "kbz/engine/batch.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace kbz {
namespace {

// Runs the generated script with the local /bin/sh: the same shell semantics the remote host applies.
std::string run_sh(const std::string& script) {
  char path[] = "/tmp/kbz-batch-XXXXXX";
  int fd = mkstemp(path);
  FILE* f = fdopen(fd, "w");
  fputs(script.c_str(), f);
  fclose(f);
  std::string out;
  FILE* p = popen((std::string("sh ") + path).c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  std::remove(path);
  return out;
}

TEST(Batch, SplitsOutputsAndExitCodes) {
  std::vector<BatchItem> items = {{"a", "echo hello"},
                                  {"b", "printf 'no newline'; exit 3"},
                                  {"c", "echo err >&2; false"},
                                  {"d", "exit 0"}};
  const auto marker = new_batch_marker();
  auto parsed = parse_batch_output(run_sh(build_batch_script(items, marker)), marker, items);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[0].output, "hello\n");
  EXPECT_EQ((*parsed)[0].exit_status, 0);
  EXPECT_EQ((*parsed)[1].output, "no newline");
  EXPECT_EQ((*parsed)[1].exit_status, 3);
  EXPECT_EQ((*parsed)[2].output, "err\n");
  EXPECT_EQ((*parsed)[2].exit_status, 1);
  EXPECT_EQ((*parsed)[3].output, "");
}

TEST(Batch, OneCommandExitingDoesNotStopTheOthers) {
  std::vector<BatchItem> items = {{"x", "exit 7"}, {"y", "echo still here"}};
  const auto marker = new_batch_marker();
  auto parsed = parse_batch_output(run_sh(build_batch_script(items, marker)), marker, items);
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed)[0].exit_status, 7);
  EXPECT_EQ((*parsed)[1].output, "still here\n");
}

TEST(Batch, FailingPreludeAbortsAndTruncatedOutputIsAnError) {
  std::vector<BatchItem> items = {{"x", "echo hi"}};
  const auto marker = new_batch_marker();
  auto parsed = parse_batch_output(run_sh(build_batch_script(items, marker, "exit 4")), marker, items);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("'x'"), std::string::npos);
}

TEST(Batch, MarkersAreUnique) { EXPECT_NE(new_batch_marker(), new_batch_marker()); }

}  // namespace
}  // namespace kbz
