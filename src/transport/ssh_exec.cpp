// One exec = one new channel on the host's session. Output arrives through channel callbacks (no copy into
// libssh's buffers) and the wait is libssh's poll on the socket: no busy loop, no process spawned.
#include <libssh/callbacks.h>
#include <poll.h>

#include <algorithm>
#include <climits>
#include <csignal>

#include "kbz/core/run_log.hpp"
#include "kbz/transport/exec_log.hpp"
#include "transport/remote_command.hpp"
#include "transport/ssh_connection.hpp"

namespace kbz::transport {
namespace {

struct Sink {
  std::string* out;
  std::string* err;
  std::string signal;  // set when the command died of a signal (no exit status then)
};

int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* userdata) {
  auto* sink = static_cast<Sink*>(userdata);
  (is_stderr ? sink->err : sink->out)->append(static_cast<const char*>(data), len);
  return static_cast<int>(len);  // all consumed: libssh re-opens the window as we go
}

void on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*, const char*,
                    void* userdata) {
  static_cast<Sink*>(userdata)->signal = signal ? signal : "?";
}

int signal_number(const std::string& name) {
  static const std::pair<const char*, int> known[] = {{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},
                                                      {"HUP", SIGHUP},   {"SEGV", SIGSEGV}, {"ABRT", SIGABRT},
                                                      {"PIPE", SIGPIPE}, {"QUIT", SIGQUIT}};
  for (const auto& [n, v] : known)
    if (name == n) return v;
  return 0;
}

// Owns the channel and its callbacks. The callbacks are unregistered before the channel is released: after a
// timeout libssh keeps the channel until the server's CLOSE arrives, and late data must not reach a dead
// Sink.
struct ExecChannel {
  ssh_channel channel = nullptr;
  ssh_channel_callbacks_struct callbacks{};

  void release() {
    if (!channel) return;
    ssh_remove_channel_callbacks(channel, &callbacks);
    if (ssh_channel_is_open(channel)) ssh_channel_close(channel);
    ssh_channel_free(channel);
    channel = nullptr;
  }
  void forget() { channel = nullptr; }  // the session is being freed, and frees its channels with it
  ~ExecChannel() { release(); }
};

}  // namespace

Result<ExecResult> SshConnection::run(const ExecRequest& request) {
  const Millis timeout = request.timeout.count() > 0 ? request.timeout : options_.command_timeout;
  auto result =
      run_wrapped(with_privilege(request.command, request.privilege, user()), request.stdin_data, timeout);
  if (result && needs_sudo(request.privilege, user()) && sudo_refused(*result)) {
    result = fail(ErrorKind::Auth, sudo_refused_message(user(), describe(host_)));
  }
  log_exec(host_, request, result);  // every remote command of every command goes to the run log
  return result;
}

Result<ExecResult> SshConnection::run_wrapped(const std::string& command_line, const std::string& stdin_data,
                                              Millis timeout) {
  if (auto r = ensure_open(); !r) return std::unexpected(r.error());
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + timeout;
  ExecResult result;
  Sink sink{&result.out, &result.err, {}};

  ExecChannel exec;
  exec.channel = ssh_channel_new(session_);
  if (!exec.channel || ssh_channel_open_session(exec.channel) != SSH_OK) {
    auto e = ssh_error(ErrorKind::Connect, "cannot open a channel");
    exec.release();
    if (!ssh_is_connected(session_)) close();
    return std::unexpected(e);
  }
  exec.callbacks.userdata = &sink;
  exec.callbacks.channel_data_function = on_data;
  exec.callbacks.channel_exit_signal_function = on_exit_signal;
  ssh_callbacks_init(&exec.callbacks);
  ssh_set_channel_callbacks(exec.channel, &exec.callbacks);
  ssh_channel channel = exec.channel;

  if (ssh_channel_request_exec(channel, command_line.c_str()) != SSH_OK) {
    return std::unexpected(ssh_error(ErrorKind::Remote, "exec request refused"));
  }
  auto timed_out = [&]() -> Result<ExecResult> {
    // Kill the remote command (OpenSSH honours "signal" requests), close our side; the session stays
    // usable, and ensure_open() reconnects next time if it did not survive.
    ssh_channel_request_send_signal(channel, "KILL");
    exec.release();
    if (!ssh_is_connected(session_)) close();
    run_log()->warn("{}: command timed out after {} ms", describe(host_), timeout.count());
    return fail(ErrorKind::Timeout, describe(host_) + ": command timed out after " +
                                        std::to_string(timeout.count() / 1000.0).substr(0, 5) + " s");
  };
  auto ms_left = [&] {
    return std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
  };

  // Secrets travel here, never in command_line. Never more than the remote window at once: a blocking write
  // would wait for a window that a command which stopped reading never reopens.
  for (size_t sent = 0; sent < stdin_data.size();) {
    if (ssh_channel_is_eof(channel) || ssh_channel_is_closed(channel))
      break;  // exited without reading it all
    const uint32_t window = ssh_channel_window_size(channel);
    if (window == 0) {
      const long long left = ms_left();
      if (left <= 0) return timed_out();
      pollfd pfd{ssh_get_fd(session_), POLLIN, 0};
      ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 50)));
      if (ssh_channel_poll(channel, 0) == SSH_ERROR) {
        exec.forget();
        auto e = ssh_error(ErrorKind::Connect, "connection lost during a command");
        close();
        return std::unexpected(e);
      }
      continue;
    }
    const auto chunk = static_cast<uint32_t>(std::min<size_t>({stdin_data.size() - sent, 32768, window}));
    const int n = ssh_channel_write(channel, stdin_data.data() + sent, chunk);
    if (n < 0 && (ssh_channel_is_eof(channel) || ssh_channel_is_closed(channel))) break;
    if (n < 0) return std::unexpected(ssh_error(ErrorKind::Remote, "cannot write the command's stdin"));
    sent += static_cast<size_t>(n);
  }
  ssh_channel_send_eof(channel);
  ++stats_.execs;

  for (;;) {
    const long long left = ms_left();
    if (left <= 0) return timed_out();
    // Returns on remote EOF, on error, or when the slice ends; data goes to the callbacks meanwhile.
    const int rc = ssh_channel_poll_timeout(channel, static_cast<int>(std::min<long long>(left, INT_MAX)), 0);
    if (rc == SSH_EOF) break;
    if (rc == SSH_ERROR) {
      auto e = ssh_error(ErrorKind::Connect, "connection lost during a command");
      exec.forget();
      close();
      return std::unexpected(e);
    }
  }
  // Waits (at most the connect timeout) for the exit-status message that follows EOF.
  result.exit_status = ssh_channel_get_exit_status(channel);
  if (result.exit_status < 0 && !sink.signal.empty()) result.exit_status = 128 + signal_number(sink.signal);
  result.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace kbz::transport
