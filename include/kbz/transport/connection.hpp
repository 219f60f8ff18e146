// The engine's view of a host: run a command, move a file. Only src/transport/ includes libssh; a dry-run
// runner and test runners are other implementations (ninja's CommandRunner, pyinfra's BaseConnector).
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {

using Millis = std::chrono::milliseconds;

enum class Privilege { AsUser, Root };  // Root: wrapped in `sudo -n` when the SSH user is not root

struct ExecRequest {
  std::string command;     // a shell command line; must never hold a secret (argv is visible in ps)
  std::string stdin_data;  // fed to the command's stdin, then EOF; the place for secrets
  Privilege privilege = Privilege::Root;
  Millis timeout{0};  // 0 = the connection's default
};

struct ExecResult {
  int exit_status = -1;
  std::string out;
  std::string err;
  Millis duration{0};
};

// Counters the engine and benchmarks read (issue: bench).
struct TransportStats {
  uint64_t execs = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t uploads = 0;
  uint64_t uploads_skipped = 0;
};

struct UploadRequest {
  std::filesystem::path local;  // streamed, never loaded whole
  std::string remote_path;
  int mode = 0644;
  std::string owner;  // "user:group", empty = leave as created
  Privilege privilege = Privilege::Root;
};

enum class UploadOutcome { Uploaded, Unchanged };

class Connection {
 public:
  virtual ~Connection() = default;
  virtual const Host& host() const = 0;
  // A non-zero exit status is a value, not an error; errors are transport failures and timeouts.
  virtual Result<ExecResult> run(const ExecRequest& request) = 0;
  // SFTP, temp name then rename; skipped when the remote sha256 already matches.
  virtual Result<UploadOutcome> upload(const UploadRequest& request) = 0;
  virtual Result<std::string> read_file(const std::string& remote_path) = 0;
  virtual const TransportStats& stats() const = 0;
};

enum class HostKeyPolicy { Strict, AcceptNew };  // a CHANGED key is refused under both

struct ConnectOptions {
  std::vector<std::filesystem::path>
      identities;                     // tried after ssh-agent; empty = ~/.ssh/id_ed25519, id_ecdsa, id_rsa
  std::filesystem::path known_hosts;  // empty = ~/.ssh/known_hosts
  HostKeyPolicy host_key_policy = HostKeyPolicy::Strict;
  Millis connect_timeout{10000};
  Millis command_timeout{600000};
  bool use_agent = true;
};

// One session per host, opened once per run and reused; a session is only ever used by one thread at a time.
class SessionPool {
 public:
  explicit SessionPool(ConnectOptions options);
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  // Opens (or returns the already open) session for this host.
  Result<Connection*> connect(const Host& host);
  // Opens a brand-new session, closing the cached one: proves the host still accepts us (after sshd changes).
  Result<Connection*> reconnect(const Host& host);
  void close_all();
  TransportStats total_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs fn(host) for every host with at most `forks` at once; each host's calls stay on one thread.
// Returns when all are done or `stop` became true (hosts not started are skipped).
void for_each_host_parallel(const std::vector<Host>& hosts, int forks,
                            const std::function<void(const Host&, size_t index)>& fn);

}  // namespace kbz
