#include "kbz/report/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kbz {
namespace fs = std::filesystem;

Result<void> write_file_atomic(const std::string& path, const std::string& content, int mode) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) return fail(ErrorKind::Io, fmt::format("cannot create {}: {}", target.parent_path().string(), ec.message()));
  // Same folder as the target, so rename() stays on one file system and is atomic.
  std::string tmp = target.string() + ".tmp.XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return fail(ErrorKind::Io, fmt::format("cannot create a temp file next to {}: {}", path, std::strerror(errno)));
  fchmod(fd, static_cast<mode_t>(mode));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(ErrorKind::Io, fmt::format("cannot write {}: {}", tmp, why));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return fail(ErrorKind::Io, fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return fail(ErrorKind::Io, fmt::format("cannot replace {}: {}", path, why));
  }
  return {};
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::Io, fmt::format("cannot read {}", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace kbz
