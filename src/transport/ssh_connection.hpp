// Connection over one libssh session (exec channels + one SFTP channel, opened lazily). Used by one thread at
// a time: libssh sessions are not thread-safe, the pool hands each host to one worker.
#pragma once
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <mutex>
#include <string>

#include "kbz/transport/connection.hpp"

namespace kbz::transport {

class SshConnection final : public Connection {
 public:
  // known_hosts_mutex: shared by every connection of a pool, so concurrent first-use writes do not
  // interleave.
  SshConnection(Host host, const ConnectOptions& options, std::mutex& known_hosts_mutex);
  ~SshConnection() override;
  SshConnection(const SshConnection&) = delete;
  SshConnection& operator=(const SshConnection&) = delete;

  Result<void> open();  // connect, check the host key, authenticate
  void close();

  const Host& host() const override { return host_; }
  Result<ExecResult> run(const ExecRequest& request) override;
  Result<UploadOutcome> upload(const UploadRequest& request) override;  // logged, then upload_unlogged
  Result<std::string> read_file(const std::string& remote_path) override;
  const TransportStats& stats() const override;

 private:
  Result<UploadOutcome> upload_unlogged(const UploadRequest& request);
  Result<void> ensure_open();  // reopens a session lost after a timeout or a network error
  Result<void> verify_host_key();
  Result<void> authenticate();
  Result<sftp_session> ensure_sftp();
  Result<ExecResult> run_wrapped(const std::string& command_line, const std::string& stdin_data,
                                 Millis timeout);
  Result<void> sftp_write_file(const std::filesystem::path& local, const std::string& remote,
                               int create_mode);
  Result<std::string> sftp_read_file(const std::string& remote_path);
  Error ssh_error(ErrorKind kind, const std::string& what) const;
  std::string user() const;

  Host host_;
  ConnectOptions options_;
  std::mutex& known_hosts_mutex_;
  ssh_session session_ = nullptr;
  sftp_session sftp_ = nullptr;
  ssh_counter_struct sent_{};  // wire bytes of the current session (libssh updates them)
  ssh_counter_struct received_{};
  mutable TransportStats stats_;  // bytes = closed sessions' totals + the live counters
  uint64_t closed_sent_ = 0, closed_received_ = 0;
};

}  // namespace kbz::transport
