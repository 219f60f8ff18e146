// Real OpenSSH daemons for integration tests: N `sshd -D` processes, one per loopback address (127.0.T.1..N),
// each with its own host key, a fresh client key, a matching known_hosts and a servers.tsv in the real
// 12-column format. Tests connect as `kbztest` (passwordless sudo) or `kbznosudo` (no sudo), never as root:
// root's shell start-up can stall here. Reusable by every suite: start one fleet per test suite.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "kbz/inventory/inventory.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz::test {

inline constexpr const char* kSudoUser = "kbztest";
inline constexpr const char* kNoSudoUser = "kbznosudo";

// Non-empty when the fixture cannot run here (not root); pass it to GTEST_SKIP().
std::string sshd_skip_reason();

// Creates kbztest (NOPASSWD sudo) and kbznosudo once per machine; idempotent, safe if two suites race.
void ensure_test_users();

struct ProcessResult {
  int exit_status = -1;
  std::string out, err;
};
// Runs argv (no shell) with optional extra environment entries "K=V", captures stdout/stderr.
ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

class SshdFleet {
 public:
  // Starts `count` daemons on `port`. Picks the first free 127.0.T.0/24 (T = 1, 2, ...) so suites running at
  // the same time in other worktrees do not collide. Throws std::runtime_error with sshd's log on failure.
  explicit SshdFleet(size_t count, int port = 22);
  ~SshdFleet();
  SshdFleet(const SshdFleet&) = delete;
  SshdFleet& operator=(const SshdFleet&) = delete;

  size_t size() const { return daemons_.size(); }
  const std::filesystem::path& dir() const { return dir_; }         // 0755 temp dir, removed at teardown
  std::filesystem::path client_key() const { return dir_ / "client_key"; }
  std::filesystem::path known_hosts() const { return dir_ / "known_hosts"; }  // every daemon's current key
  std::string address(size_t i) const;
  std::string hostname(size_t i) const;  // kbz-test-01, kbz-test-02, ...
  Host host(size_t i, const std::string& user = kSudoUser) const;
  std::vector<Host> hosts(const std::string& user = kSudoUser) const;
  ConnectOptions connect_options() const;  // client key + known_hosts, agent off, short timeouts
  // Writes servers.tsv (header + one prod row per daemon) into dir(); returns its path.
  std::filesystem::path write_servers_tsv(const std::string& user = kSudoUser) const;
  std::string known_hosts_line(size_t i) const;  // "ADDR ssh-ed25519 AAAA..." ([ADDR]:PORT when port != 22)
  std::string log(size_t i) const;               // the daemon's log so far (LogLevel DEBUG3)

  void stop(size_t i);              // host down
  void start(size_t i);             // back up, same key
  void replace_host_key(size_t i);  // new key + restart: known_hosts() now holds a stale key for it

 private:
  struct Daemon {
    std::string address;
    std::filesystem::path home;  // config, key, pid, log
    pid_t pid = -1;
  };
  bool start_daemon(Daemon& d, std::string* why);  // false when the address is taken (try another net)
  void spawn_daemon(Daemon& d);
  bool wait_ready(Daemon& d, std::string* why);
  void write_known_hosts() const;
  void stop_all();

  std::filesystem::path dir_;
  int port_;
  std::vector<Daemon> daemons_;
};

}  // namespace kbz::test
