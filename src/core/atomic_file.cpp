#include "kbz/core/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
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
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorKind::Io, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  // Same folder as the target, so rename() stays on one file system and is atomic. A dot name keeps the
  // temp file out of globs (credentials/*.env, reports/*.md) if a crash leaves it behind.
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);  // 0600, O_EXCL
  if (fd < 0)
    return fail(ErrorKind::Io,
                fmt::format("cannot create a temp file next to {}: {}", path, std::strerror(errno)));
  const auto give_up = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail(ErrorKind::Io, fmt::format("cannot {} {}: {}", what, tmp, std::strerror(err)));
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return give_up("set the mode of", errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return give_up("write", errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return give_up("write", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorKind::Io, fmt::format("cannot write {}: {}", tmp, std::strerror(err)));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorKind::Io, fmt::format("cannot replace {}: {}", path, std::strerror(err)));
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // best effort: the rename is durable after this
    ::fsync(dfd);
    ::close(dfd);
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
