// Bounded fan-out: `forks` worker threads pull the next host index; a host stays on the thread that took it,
// which is what libssh needs (one session, one thread). Ctrl-C stops the pulling, running hosts finish.
#include <atomic>
#include <thread>

#include "kbz/core/interrupt.hpp"
#include "kbz/core/run_log.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

void for_each_host_parallel(const std::vector<Host>& hosts, int forks,
                            const std::function<void(const Host&, size_t index)>& fn) {
  if (hosts.empty()) return;
  const size_t width = std::clamp<size_t>(static_cast<size_t>(std::max(forks, 1)), 1, hosts.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (;;) {
      if (interrupted()) return;
      const size_t i = next.fetch_add(1);
      if (i >= hosts.size()) return;
      try {
        fn(hosts[i], i);
      } catch (const std::exception& e) {
        // A bug on one host must not take the others down; it is still loud in the log.
        run_log()->error("{}: internal error: {}", hosts[i].hostname, e.what());
      }
    }
  };
  if (width == 1) {
    worker();
    return;
  }
  std::vector<std::jthread> threads;
  threads.reserve(width);
  for (size_t t = 0; t < width; ++t) threads.emplace_back(worker);
}

}  // namespace kbz
