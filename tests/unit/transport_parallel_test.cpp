// for_each_host_parallel: every host once, never more than `forks` at a time, Ctrl-C skips the rest.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "kbz/core/interrupt.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {
namespace {

std::vector<Host> make_hosts(size_t n) {
  std::vector<Host> hosts(n);
  for (size_t i = 0; i < n; ++i) hosts[i].hostname = "h" + std::to_string(i);
  return hosts;
}

TEST(TransportParallel, EveryHostOnceWithinTheWidth) {
  const auto hosts = make_hosts(40);
  std::atomic<int> running{0}, peak{0};
  std::mutex m;
  std::multiset<size_t> seen;
  for_each_host_parallel(hosts, 7, [&](const Host& h, size_t i) {
    EXPECT_EQ(h.hostname, "h" + std::to_string(i));
    const int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --running;
    std::lock_guard lock(m);
    seen.insert(i);
  });
  EXPECT_EQ(seen.size(), 40u);
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(seen.count(i), 1u);
  EXPECT_LE(peak.load(), 7);
  EXPECT_GE(peak.load(), 2) << "hosts must actually run in parallel";
}

TEST(TransportParallel, EmptyAndSerial) {
  int calls = 0;
  for_each_host_parallel({}, 32, [&](const Host&, size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  std::vector<size_t> order;
  for_each_host_parallel(make_hosts(5), 1, [&](const Host&, size_t i) { order.push_back(i); });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(TransportParallel, InterruptSkipsHostsNotStarted) {
  install_interrupt_handler();
  std::vector<size_t> done;
  for_each_host_parallel(make_hosts(10), 1, [&](const Host&, size_t i) {
    done.push_back(i);
    if (i == 2) std::raise(SIGINT);  // Ctrl-C while host 2 runs: it finishes, 3..9 never start
  });
  reset_interrupted();
  std::signal(SIGINT, SIG_DFL);
  EXPECT_EQ(done, (std::vector<size_t>{0, 1, 2}));
}

}  // namespace
}  // namespace kbz
