// File transfer over SFTP: streamed in chunks, written under a temporary name then renamed (a reader never
// sees half a file), skipped when the remote sha256 already matches. A non-root user who needs a root-owned
// file uploads to mktemp under /tmp and lets `sudo -n install` put it in place.
#include <fcntl.h>
#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "kbz/core/run_log.hpp"
#include "kbz/transport/exec_log.hpp"
#include "transport/remote_command.hpp"
#include "transport/ssh_connection.hpp"

namespace kbz::transport {
namespace {

constexpr size_t kChunk = 64 * 1024;  // below OpenSSH sftp-server's 256 KiB message limit

Result<std::string> local_sha256(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::Io, "cannot read " + path.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::array<char, kChunk> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return fail(ErrorKind::Io, "cannot read " + path.string());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// libssh's session error is about the transport; SFTP failures carry their own status code.
std::string sftp_status(sftp_session sftp) {
  switch (sftp ? sftp_get_error(sftp) : -1) {
    case SSH_FX_NO_SUCH_FILE:
      return "no such file or directory";
    case SSH_FX_PERMISSION_DENIED:
      return "permission denied";
    case SSH_FX_NO_SUCH_PATH:
      return "no such path";
    case SSH_FX_FILE_ALREADY_EXISTS:
      return "file exists";
    case SSH_FX_WRITE_PROTECT:
      return "read-only file system";
    case SSH_FX_NO_MEDIA:
      return "no medium";
    default:
      return "SFTP failure";
  }
}

std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream s;
  s << std::hex << rng();
  return s.str();
}

std::string octal(int mode) {
  std::ostringstream s;
  s << std::oct << mode;
  return s.str();
}

ExecRequest exec_request(std::string command, Privilege privilege) {
  ExecRequest r;
  r.command = std::move(command);
  r.privilege = privilege;
  return r;
}

struct RemoteState {
  bool exists = false;
  std::string sha256, mode, owner;  // mode as `stat %a` prints it, owner "user:group"
};

bool owner_matches(const std::string& wanted, const std::string& actual) {
  if (wanted.empty()) return true;
  if (wanted.find(':') == std::string::npos) return actual.substr(0, actual.find(':')) == wanted;
  return wanted == actual;
}

}  // namespace

Result<sftp_session> SshConnection::ensure_sftp() {
  if (auto r = ensure_open(); !r) return std::unexpected(r.error());
  if (sftp_) return sftp_;
  sftp_ = sftp_new(session_);
  if (!sftp_ || sftp_init(sftp_) != SSH_OK) {
    auto e = ssh_error(ErrorKind::Remote, "cannot start SFTP (is `Subsystem sftp` set in sshd_config?)");
    if (sftp_) sftp_free(sftp_);
    sftp_ = nullptr;
    return std::unexpected(e);
  }
  return sftp_;
}

Result<void> SshConnection::sftp_write_file(const std::filesystem::path& local, const std::string& remote,
                                            int create_mode) {
  auto sftp = ensure_sftp();
  if (!sftp) return std::unexpected(sftp.error());
  std::ifstream in(local, std::ios::binary);
  if (!in) return fail(ErrorKind::Io, "cannot read " + local.string());
  sftp_file file =
      sftp_open(*sftp, remote.c_str(), O_WRONLY | O_CREAT | O_TRUNC, static_cast<mode_t>(create_mode));
  if (!file)
    return fail(ErrorKind::Remote, describe(host_) + ": cannot create " + remote + ": " + sftp_status(*sftp));
  std::vector<char> buf(kChunk);
  bool ok = true;
  while (ok && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    size_t n = static_cast<size_t>(in.gcount());
    for (size_t off = 0; ok && off < n;) {
      const ssize_t w = sftp_write(file, buf.data() + off, n - off);
      if (w <= 0)
        ok = false;
      else
        off += static_cast<size_t>(w);
    }
  }
  if (sftp_close(file) != SSH_OK) ok = false;
  if (!ok || in.bad()) {
    sftp_unlink(*sftp, remote.c_str());
    return fail(ErrorKind::Remote, describe(host_) + ": cannot write " + remote + ": " + sftp_status(*sftp));
  }
  return {};
}

Result<UploadOutcome> SshConnection::upload(const UploadRequest& request) {
  auto outcome = upload_unlogged(request);
  log_upload(host_, request, outcome);
  return outcome;
}

Result<UploadOutcome> SshConnection::upload_unlogged(const UploadRequest& request) {
  auto local_hash = local_sha256(request.local);
  if (!local_hash) return std::unexpected(local_hash.error());
  const std::string dest = request.remote_path;
  const std::string q = shell_quote(dest);

  // One exec tells us whether anything must move: content hash, mode, owner.
  auto probe = run(exec_request("if [ -f " + q + " ]; then sha256sum < " + q + " && stat -c '%a %U:%G' -- " +
                                    q + "; else echo absent; fi",
                                request.privilege));
  if (!probe) return std::unexpected(probe.error());
  if (probe->exit_status != 0) {
    return fail(ErrorKind::Remote, describe(host_) + ": cannot inspect " + dest + ": " + probe->err);
  }
  RemoteState state;
  {
    std::istringstream lines(probe->out);
    std::string first;
    lines >> first;
    if (first != "absent") {
      state.exists = true;
      state.sha256 = first;
      std::string name;
      lines >> name >> state.mode >> state.owner;
    }
  }
  const std::string mode = octal(request.mode);
  if (state.exists && state.sha256 == *local_hash) {
    if (state.mode == mode && owner_matches(request.owner, state.owner)) {
      ++stats_.uploads_skipped;
      return UploadOutcome::Unchanged;
    }
    // Same content, wrong metadata: fix it in place, no transfer.
    std::string fix = "chmod " + mode + " -- " + q;
    if (!request.owner.empty()) fix += " && chown -- " + shell_quote(request.owner) + " " + q;
    auto r = run(exec_request(fix, request.privilege));
    if (!r) return std::unexpected(r.error());
    if (r->exit_status != 0) return fail(ErrorKind::Remote, describe(host_) + ": " + fix + ": " + r->err);
    return UploadOutcome::Uploaded;
  }

  std::error_code size_error;
  const auto size = std::filesystem::file_size(request.local, size_error);
  if (needs_sudo(request.privilege, user())) {
    // The user cannot write the destination: stage in /tmp, then root installs it beside the target and
    // renames it over (atomic), and the staging file is removed whatever happened.
    auto tmp = run(exec_request("mktemp /tmp/kbz-upload.XXXXXXXXXX", Privilege::AsUser));
    if (!tmp) return std::unexpected(tmp.error());
    std::string staged = tmp->out.substr(0, tmp->out.find('\n'));
    if (tmp->exit_status != 0 || staged.empty()) {
      return fail(ErrorKind::Remote, describe(host_) + ": mktemp failed: " + tmp->err);
    }
    auto written = sftp_write_file(request.local, staged, 0600);
    if (!written) {
      run(exec_request("rm -f -- " + shell_quote(staged), Privilege::AsUser));
      return std::unexpected(written.error());
    }
    const std::string next = dest + ".kbz-" + random_suffix();
    std::string install = "install -m " + mode;
    if (!request.owner.empty()) {
      const auto colon = request.owner.find(':');
      install += " -o " + shell_quote(request.owner.substr(0, colon));
      if (colon != std::string::npos) install += " -g " + shell_quote(request.owner.substr(colon + 1));
    }
    install += " -- " + shell_quote(staged) + " " + shell_quote(next) + " && mv -f -- " + shell_quote(next) +
               " " + q;
    auto r = run_wrapped(with_privilege(install, Privilege::Root, user()) + "; rc=$?; rm -f -- " +
                             shell_quote(staged) + "; exit $rc",
                         {}, options_.command_timeout);
    if (!r) return std::unexpected(r.error());
    if (sudo_refused(*r)) return fail(ErrorKind::Auth, sudo_refused_message(user(), describe(host_)));
    if (r->exit_status != 0)
      return fail(ErrorKind::Remote, describe(host_) + ": cannot install " + dest + ": " + r->err);
  } else {
    const auto slash = dest.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : dest.substr(0, slash);
    const std::string base = slash == std::string::npos ? dest : dest.substr(slash + 1);
    const std::string tmp = (dir.empty() ? "" : dir) + "/." + base + ".kbz-" + random_suffix();
    if (auto w = sftp_write_file(request.local, tmp, 0600); !w) return std::unexpected(w.error());
    auto cleanup = [&](Error e) -> Result<UploadOutcome> {
      sftp_unlink(sftp_, tmp.c_str());
      return std::unexpected(std::move(e));
    };
    if (sftp_chmod(sftp_, tmp.c_str(), static_cast<mode_t>(request.mode)) != SSH_OK) {
      return cleanup(
          Error{ErrorKind::Remote, describe(host_) + ": cannot chmod " + tmp + ": " + sftp_status(sftp_)});
    }
    // libssh 0.10 has no call for OpenSSH's posix-rename extension, and plain SFTP rename refuses to replace
    // an existing file. So: a new file is renamed over SFTP; an existing one is replaced by `mv -f -T`
    // (rename(2), atomic), in the same exec as the chown when there is one.
    std::string finish;
    if (!request.owner.empty()) finish = "chown -- " + shell_quote(request.owner) + " " + shell_quote(tmp);
    if (state.exists)
      finish += (finish.empty() ? "" : " && ") + std::string("mv -f -T -- ") + shell_quote(tmp) + " " + q;
    if (!finish.empty()) {
      auto r = run(exec_request(finish, request.privilege));
      if (!r) return cleanup(r.error());
      if (r->exit_status != 0)
        return cleanup(Error{ErrorKind::Remote, describe(host_) + ": " + finish + ": " + r->err});
    }
    if (!state.exists && sftp_rename(sftp_, tmp.c_str(), dest.c_str()) != SSH_OK) {
      return cleanup(Error{ErrorKind::Remote, describe(host_) + ": cannot rename " + tmp + " to " + dest +
                                                  ": " + sftp_status(sftp_)});
    }
  }
  ++stats_.uploads;
  run_log()->info("{}: uploaded {} -> {} ({} bytes, mode {})", describe(host_), request.local.string(), dest,
                  size, mode);
  return UploadOutcome::Uploaded;
}

Result<std::string> SshConnection::sftp_read_file(const std::string& remote_path) {
  auto sftp = ensure_sftp();
  if (!sftp) return std::unexpected(sftp.error());
  sftp_file file = sftp_open(*sftp, remote_path.c_str(), O_RDONLY, 0);
  if (!file)
    return fail(ErrorKind::Remote,
                describe(host_) + ": cannot open " + remote_path + ": " + sftp_status(*sftp));
  std::string out;
  std::vector<char> buf(kChunk);
  for (;;) {
    const ssize_t n = sftp_read(file, buf.data(), buf.size());
    if (n < 0) {
      sftp_close(file);
      return std::unexpected(ssh_error(ErrorKind::Remote, "cannot read " + remote_path));
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  sftp_close(file);
  return out;
}

Result<std::string> SshConnection::read_file(const std::string& remote_path) {
  if (user() == "root") return sftp_read_file(remote_path);
  // Files the engine reads are mostly root's: go through sudo (stdout is the file, byte for byte).
  auto r = run(exec_request("cat -- " + shell_quote(remote_path), Privilege::Root));
  if (!r) return std::unexpected(r.error());
  if (r->exit_status != 0)
    return fail(ErrorKind::Remote, describe(host_) + ": cannot read " + remote_path + ": " + r->err);
  return std::move(r->out);
}

}  // namespace kbz::transport
