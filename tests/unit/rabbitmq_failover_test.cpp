// The pure parts of the rabbitmq-quorum-failover scenario, on output recorded on the lab (RabbitMQ 3.10.8
// from Debian, 3 nodes): tests/fixtures/rabbitmq/*.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kbz/failover/rabbitmq_quorum_failover.hpp"

using namespace kbz;

namespace {
std::string fixture(const std::string& name) {
  std::ifstream in(std::filesystem::path(KBZ_FIXTURES_DIR) / "rabbitmq" / name);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}
}  // namespace

TEST(RabbitmqFailover, LeaderAndMembersOfTheNamedQueue) {
  const auto s = quorum_queue_state(fixture("list_queues.json"), "kbz-failover-t1");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->leader, "rabbit@queue-01");
  EXPECT_EQ(s->members.size(), 3u);
  EXPECT_EQ(s->online.size(), 3u);
  EXPECT_EQ(node_host(s->leader), "queue-01");
}

TEST(RabbitmqFailover, UnknownQueueOrGarbageGivesNothing) {
  EXPECT_FALSE(quorum_queue_state(fixture("list_queues.json"), "nope"));
  EXPECT_FALSE(quorum_queue_state("Error: unable to perform an operation on node", "kbz-failover-t1"));
  EXPECT_FALSE(quorum_queue_state("", "kbz-failover-t1"));
}

TEST(RabbitmqFailover, ConfirmedIdsAreTheOkLines) {
  EXPECT_EQ(confirmed_ids("ok 1\nok 2\nnack 3\nok 4\nkbz-amqp: connection closed by the server\n"),
            (std::vector<long>{1, 2, 4}));
  EXPECT_TRUE(confirmed_ids("").empty());
}

TEST(RabbitmqFailover, NodeHost) {
  EXPECT_EQ(node_host("rabbit@queue-01"), "queue-01");
  EXPECT_EQ(node_host("queue-01"), "queue-01");
}
