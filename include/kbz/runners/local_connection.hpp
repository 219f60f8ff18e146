// A Connection that runs commands on THIS machine with `sh -c` (posix_spawn): the engine's second runner,
// used by fixture tests and the bench (ninja's CommandRunner idea). Privilege is ignored: commands run as the
// current user, so tests point steps at a temp folder.
#pragma once
#include <string>

#include "kbz/transport/connection.hpp"

namespace kbz {

class LocalConnection : public Connection {
 public:
  explicit LocalConnection(Host host, Millis default_timeout = Millis{600000});
  const Host& host() const override { return host_; }
  Result<ExecResult> run(const ExecRequest& request) override;
  Result<UploadOutcome> upload(const UploadRequest& request) override;
  Result<std::string> read_file(const std::string& remote_path) override;
  const TransportStats& stats() const override { return stats_; }

 private:
  Host host_;
  Millis default_timeout_;
  TransportStats stats_;
};

}  // namespace kbz
