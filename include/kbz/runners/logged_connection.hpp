// Decorator: every exec of the wrapped connection goes to the run log (log_exec masks it). The engine uses
// the transport's connections through this so `logs/` holds what was run, on which host, and what came back.
#pragma once
#include "kbz/core/run_log.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

class LoggedConnection : public Connection {
 public:
  explicit LoggedConnection(Connection& inner) : inner_(&inner) {}
  void rebind(Connection& inner) { inner_ = &inner; }
  const Host& host() const override { return inner_->host(); }
  Result<ExecResult> run(const ExecRequest& request) override {
    auto r = inner_->run(request);
    log_exec(inner_->host(), request.command, r);
    return r;
  }
  Result<UploadOutcome> upload(const UploadRequest& request) override { return inner_->upload(request); }
  Result<std::string> read_file(const std::string& remote_path) override { return inner_->read_file(remote_path); }
  const TransportStats& stats() const override { return inner_->stats(); }

 private:
  Connection* inner_;
};

}  // namespace kbz
