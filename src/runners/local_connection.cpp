#include "kbz/runners/local_connection.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace kbz {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { close_both(); }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
  void close_both() {
    close_end(0);
    close_end(1);
  }
};

}  // namespace

LocalConnection::LocalConnection(Host host, Millis default_timeout)
    : host_(std::move(host)), default_timeout_(default_timeout) {}

Result<ExecResult> LocalConnection::run(const ExecRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  Pipe in, out, err;
  if (pipe2(in.fd, O_CLOEXEC) != 0 || pipe2(out.fd, O_CLOEXEC) != 0 || pipe2(err.fd, O_CLOEXEC) != 0)
    return fail(ErrorKind::Io, fmt::format("pipe: {}", std::strerror(errno)));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group, so a timeout kills the whole command tree, not just the shell.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  std::string cmd = request.command;
  char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), cmd.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail(ErrorKind::Io, fmt::format("spawn /bin/sh: {}", std::strerror(rc)));
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  ++stats_.execs;
  stats_.bytes_sent += request.command.size() + request.stdin_data.size();

  const Millis timeout = request.timeout.count() > 0 ? request.timeout : default_timeout_;
  const auto deadline = start + timeout;
  ExecResult result;
  size_t written = 0;
  if (request.stdin_data.empty())
    in.close_end(1);
  else
    fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  bool timed_out = false;
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out.fd[0] >= 0) {
      out_i = n;
      fds[n++] = {out.fd[0], POLLIN, 0};
    }
    if (err.fd[0] >= 0) {
      err_i = n;
      fds[n++] = {err.fd[0], POLLIN, 0};
    }
    if (in.fd[1] >= 0) {
      in_i = n;
      fds[n++] = {in.fd[1], POLLOUT, 0};
    }
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (ready < 0 && errno != EINTR) break;
    auto drain = [&](int i, Pipe& p, std::string& into) {
      if (i < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) return;
      char buf[16384];
      const ssize_t got = ::read(p.fd[0], buf, sizeof buf);
      if (got > 0)
        into.append(buf, static_cast<size_t>(got)), stats_.bytes_received += got;
      else if (got == 0 || errno != EINTR)
        p.close_end(0);
    };
    drain(out_i, out, result.out);
    drain(err_i, err, result.err);
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t put =
          ::write(in.fd[1], request.stdin_data.data() + written, request.stdin_data.size() - written);
      if (put > 0) written += static_cast<size_t>(put);
      if (put < 0 && errno != EAGAIN && errno != EINTR) in.close_end(1);
      if (written >= request.stdin_data.size()) in.close_end(1);
    }
  }
  in.close_end(1);
  int status = 0;
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return fail(ErrorKind::Timeout,
                fmt::format("{}: command timed out after {} s", host_.hostname, timeout.count() / 1000));
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
  return result;
}

Result<UploadOutcome> LocalConnection::upload(const UploadRequest& request) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path tmp = request.remote_path + ".kbz-tmp";
  fs::copy_file(request.local, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::permissions(tmp, static_cast<fs::perms>(request.mode), ec);
  if (!ec) fs::rename(tmp, request.remote_path, ec);
  if (ec) return fail(ErrorKind::Io, fmt::format("upload {}: {}", request.remote_path, ec.message()));
  ++stats_.uploads;
  return UploadOutcome::Uploaded;
}

Result<std::string> LocalConnection::read_file(const std::string& remote_path) {
  std::ifstream in(remote_path, std::ios::binary);
  if (!in) return fail(ErrorKind::Remote, fmt::format("cannot read {}", remote_path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace kbz
