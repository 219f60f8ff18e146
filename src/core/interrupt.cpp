#include "kbz/core/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace kbz {
namespace {
std::atomic<int> g_signals{0};

void on_signal(int) {
  if (g_signals.fetch_add(1) >= 1) _exit(130);  // second Ctrl-C: the user means it
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return g_signals.load() > 0; }
void reset_interrupted() { g_signals.store(0); }

}  // namespace kbz
