// One apply/verify at a time per working folder: <workdir>/.kbz/lock, created with O_EXCL. A lock whose
// pid is dead on this machine is stale (a crashed run) and is taken over with a warning.
#pragma once
#include <string>

#include "kbz/core/error.hpp"

namespace kbz {

class WorkdirLock {
 public:
  // `command` is recorded for the refusal message ("apply --module 2"). `warning` receives the stale-lock
  // notice, if any.
  static Result<WorkdirLock> acquire(const std::string& workdir, const std::string& command,
                                     std::string* warning = nullptr);
  WorkdirLock(WorkdirLock&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  WorkdirLock& operator=(WorkdirLock&&) = delete;
  ~WorkdirLock();

 private:
  explicit WorkdirLock(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

std::string this_hostname();

}  // namespace kbz
