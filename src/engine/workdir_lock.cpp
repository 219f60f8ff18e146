#include "kbz/engine/workdir_lock.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kbz/core/time.hpp"

namespace kbz {
namespace fs = std::filesystem;

std::string this_hostname() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

namespace {
std::map<std::string, std::string> read_info(const fs::path& p) {
  std::map<std::string, std::string> info;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) info[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return info;
}
}  // namespace

Result<WorkdirLock> WorkdirLock::acquire(const std::string& workdir, const std::string& command,
                                         std::string* warning) {
  const fs::path dir = fs::path(workdir) / ".kbz";
  const fs::path path = dir / "lock";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorKind::Io, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string info = fmt::format("pid={}\nhostname={}\nstarted={}\ncommand={}\n", getpid(),
                                           this_hostname(), now_utc_iso(), command);
      const bool ok = ::write(fd, info.data(), info.size()) == static_cast<ssize_t>(info.size());
      ::close(fd);
      if (!ok) {
        fs::remove(path, ec);
        return fail(ErrorKind::Io, fmt::format("cannot write {}", path.string()));
      }
      return WorkdirLock(path.string());
    }
    if (errno != EEXIST)
      return fail(ErrorKind::Io, fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
    auto info = read_info(path);
    const long pid = std::strtol(info["pid"].c_str(), nullptr, 10);
    const bool same_machine = info["hostname"] == this_hostname();
    const bool dead = same_machine && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    if (!dead || attempt > 0)
      return fail(
          ErrorKind::Locked,
          fmt::format(
              "another kbz-install run holds {} (pid {} on {}, started {}, {}); wait for it to finish",
              path.string(), info["pid"], info["hostname"], info["started"], info["command"]));
    if (warning)
      *warning = fmt::format("took over a stale lock {} (pid {} started {} is gone)", path.string(),
                             info["pid"], info["started"]);
    fs::remove(path, ec);
  }
  return fail(ErrorKind::Locked, fmt::format("cannot take {}", path.string()));
}

WorkdirLock::~WorkdirLock() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace kbz
