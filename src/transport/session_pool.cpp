// The pool: one session per host for the whole run, keyed by user@address:port.
#include <chrono>
#include <map>
#include <mutex>

#include "kbz/core/run_log.hpp"
#include "kbz/transport/connection.hpp"
#include "kbz/transport/exec_log.hpp"
#include "transport/ssh_connection.hpp"

namespace kbz {

struct SessionPool::Impl {
  ConnectOptions options;
  std::mutex mutex;  // guards the map only; connecting happens outside it so hosts connect in parallel
  std::map<std::string, std::unique_ptr<transport::SshConnection>> connections;
  std::mutex known_hosts_mutex;
  TransportStats retired;  // counters of sessions replaced by reconnect() or closed

  static std::string key(const Host& h) {
    return (h.user.empty() ? "root" : h.user) + "@" + (h.address.empty() ? h.private_ip : h.address) + ":" +
           std::to_string(h.port);
  }
  void retire(const TransportStats& s) {
    retired.execs += s.execs;
    retired.bytes_sent += s.bytes_sent;
    retired.bytes_received += s.bytes_received;
    retired.uploads += s.uploads;
    retired.uploads_skipped += s.uploads_skipped;
  }
};

namespace {
std::once_flag g_ssh_init;
}

SessionPool::SessionPool(ConnectOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  std::call_once(g_ssh_init, [] { ssh_init(); });
}

SessionPool::~SessionPool() { close_all(); }

Result<Connection*> SessionPool::connect(const Host& host) {
  const std::string key = Impl::key(host);
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->connections.find(key);
    if (it != impl_->connections.end()) return it->second.get();
  }
  auto conn = std::make_unique<transport::SshConnection>(host, impl_->options, impl_->known_hosts_mutex);
  const auto t0 = std::chrono::steady_clock::now();
  auto opened = conn->open();
  log_connect(host, opened, std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0));
  if (!opened) return std::unexpected(opened.error());
  std::lock_guard lock(impl_->mutex);
  auto [it, inserted] = impl_->connections.emplace(key, std::move(conn));
  return it->second.get();  // if another thread won the race, its session is kept and ours closes here
}

Result<Connection*> SessionPool::reconnect(const Host& host) {
  const std::string key = Impl::key(host);
  std::unique_ptr<transport::SshConnection> old;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->connections.find(key);
    if (it != impl_->connections.end()) {
      old = std::move(it->second);
      impl_->connections.erase(it);
    }
  }
  if (old) {
    old->close();
    std::lock_guard lock(impl_->mutex);
    impl_->retire(old->stats());
  }
  return connect(host);
}

void SessionPool::close_all() {
  std::lock_guard lock(impl_->mutex);
  for (auto& [key, conn] : impl_->connections) {
    conn->close();
    impl_->retire(conn->stats());
  }
  impl_->connections.clear();
}

TransportStats SessionPool::total_stats() const {
  std::lock_guard lock(impl_->mutex);
  TransportStats total = impl_->retired;
  for (const auto& [key, conn] : impl_->connections) {
    const auto& s = conn->stats();
    total.execs += s.execs;
    total.bytes_sent += s.bytes_sent;
    total.bytes_received += s.bytes_received;
    total.uploads += s.uploads;
    total.uploads_skipped += s.uploads_skipped;
  }
  return total;
}

}  // namespace kbz
