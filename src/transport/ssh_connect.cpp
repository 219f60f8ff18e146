// Opening a session: TCP + key exchange, host key against known_hosts (trust on first use only when asked),
// then public-key authentication (ssh-agent, --identity files, the usual ~/.ssh keys).
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "kbz/core/run_log.hpp"
#include "transport/remote_command.hpp"
#include "transport/ssh_connection.hpp"

namespace kbz::transport {
namespace {

struct KeyDeleter {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyDeleter>;

std::filesystem::path home_dir() {
  const char* home = std::getenv("HOME");
  return home ? std::filesystem::path(home) : std::filesystem::path("/root");
}

// "SHA256:..." as OpenSSH prints it, so it can be compared with `ssh-keygen -lf`.
std::string sha256_fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != SSH_OK) return "SHA256:?";
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  std::string out = text ? text : "SHA256:?";
  ssh_string_free_char(text);
  ssh_clean_pubkey_hash(&hash);
  return out;
}

}  // namespace

SshConnection::SshConnection(Host host, const ConnectOptions& options, std::mutex& known_hosts_mutex)
    : host_(std::move(host)), options_(options), known_hosts_mutex_(known_hosts_mutex) {
  if (host_.address.empty()) host_.address = host_.private_ip;
}

SshConnection::~SshConnection() { close(); }

std::string SshConnection::user() const { return host_.user.empty() ? "root" : host_.user; }

Error SshConnection::ssh_error(ErrorKind kind, const std::string& what) const {
  std::string detail = session_ ? ssh_get_error(session_) : "";
  return Error{kind, describe(host_) + ": " + what + (detail.empty() ? "" : ": " + detail)};
}

const TransportStats& SshConnection::stats() const {
  stats_.bytes_sent = closed_sent_ + sent_.out_bytes;
  stats_.bytes_received = closed_received_ + received_.in_bytes;
  return stats_;
}

void SshConnection::close() {
  if (sftp_) {
    sftp_free(sftp_);
    sftp_ = nullptr;
  }
  if (session_) {
    if (ssh_is_connected(session_)) ssh_disconnect(session_);
    ssh_free(session_);
    session_ = nullptr;
  }
  closed_sent_ += sent_.out_bytes;
  closed_received_ += received_.in_bytes;
  sent_ = {};
  received_ = {};
}

Result<void> SshConnection::ensure_open() {
  if (session_ && ssh_is_connected(session_)) return {};
  if (session_) run_log()->info("{}: session lost, reconnecting", describe(host_));
  return open();
}

Result<void> SshConnection::open() {
  close();
  const auto started = std::chrono::steady_clock::now();
  session_ = ssh_new();
  if (!session_) return fail(ErrorKind::Internal, describe(host_) + ": out of memory");
  const std::string u = user();
  const unsigned int port = static_cast<unsigned int>(host_.port);
  const long timeout_s = std::max<long>(1, options_.connect_timeout.count() / 1000);
  const long timeout_us = (options_.connect_timeout.count() % 1000) * 1000;
  // kbz-install is explicit about every option: skipping ~/.ssh/config and /etc/ssh/ssh_config keeps runs
  // reproducible across operator machines and saves parsing them once per host.
  const bool process_config = false;
  ssh_options_set(session_, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
  ssh_options_set(session_, SSH_OPTIONS_HOST, host_.address.c_str());
  ssh_options_set(session_, SSH_OPTIONS_PORT, &port);
  ssh_options_set(session_, SSH_OPTIONS_USER, u.c_str());
  // Small request/response exchanges (exec, SFTP writes) otherwise wait on Nagle + delayed ACKs (~40 ms each).
  const int nodelay = 1;
  ssh_options_set(session_, SSH_OPTIONS_NODELAY, &nodelay);
  ssh_options_set(session_, SSH_OPTIONS_TIMEOUT, &timeout_s);
  ssh_options_set(session_, SSH_OPTIONS_TIMEOUT_USEC, &timeout_us);
  const auto known_hosts = options_.known_hosts.empty() ? home_dir() / ".ssh" / "known_hosts" : options_.known_hosts;
  ssh_options_set(session_, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str());
  ssh_set_counters(session_, &sent_, &received_);

  if (ssh_connect(session_) != SSH_OK) {
    auto e = ssh_error(ErrorKind::Connect, "cannot connect");
    close();
    return std::unexpected(e);
  }
  if (auto r = verify_host_key(); !r) {
    close();
    return r;
  }
  if (auto r = authenticate(); !r) {
    close();
    return r;
  }
  const auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count();
  run_log()->debug("{}: connected as {} in {} ms", describe(host_), u, ms);
  return {};
}

Result<void> SshConnection::verify_host_key() {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(session_, &raw) != SSH_OK) return std::unexpected(ssh_error(ErrorKind::HostKey, "no host key"));
  KeyPtr key(raw);
  const std::string type = ssh_key_type_to_char(ssh_key_type(key.get()));
  const std::string fingerprint = sha256_fingerprint(key.get());
  const auto file = options_.known_hosts.empty() ? std::string("~/.ssh/known_hosts") : options_.known_hosts.string();
  const std::string entry = host_.port == 22 ? host_.address : "[" + host_.address + "]:" + std::to_string(host_.port);

  // One pool-wide lock: libssh reads and appends the file itself; 50 first-use writes must not interleave.
  std::lock_guard lock(known_hosts_mutex_);
  switch (ssh_session_is_known_server(session_)) {
    case SSH_KNOWN_HOSTS_OK:
      return {};
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      run_log()->error("{}: HOST KEY CHANGED, now {} {}", describe(host_), type, fingerprint);
      return fail(ErrorKind::HostKey,
                  describe(host_) + ": HOST KEY CHANGED (now " + type + " " + fingerprint + ", " + file +
                      " holds a different key). Refused, nothing was run: this can be a man-in-the-middle. "
                      "If the server was really reinstalled, check the new fingerprint on its console, then "
                      "remove the old entry with: ssh-keygen -R '" + entry + "' -f " + file);
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      if (options_.host_key_policy == HostKeyPolicy::AcceptNew) {
        if (ssh_session_update_known_hosts(session_) != SSH_OK) {
          return std::unexpected(ssh_error(ErrorKind::HostKey, "cannot record the host key in " + file));
        }
        run_log()->warn("{}: new host key {} {} recorded in {}", describe(host_), type, fingerprint, file);
        return {};
      }
      return fail(ErrorKind::HostKey, describe(host_) + ": unknown host key " + type + " " + fingerprint +
                                          " (not in " + file + "). Check the fingerprint, then rerun with "
                                          "--accept-new-host-keys to record it");
    case SSH_KNOWN_HOSTS_ERROR:
      break;
  }
  return std::unexpected(ssh_error(ErrorKind::HostKey, "cannot check the host key against " + file));
}

Result<void> SshConnection::authenticate() {
  std::vector<std::string> tried;
  if (options_.use_agent && std::getenv("SSH_AUTH_SOCK") != nullptr) {
    tried.emplace_back("ssh-agent");
    const int rc = ssh_userauth_agent(session_, nullptr);
    if (rc == SSH_AUTH_SUCCESS) return {};
    if (rc == SSH_AUTH_ERROR && !ssh_is_connected(session_)) return std::unexpected(ssh_error(ErrorKind::Auth, "authentication failed"));
  }
  std::vector<std::filesystem::path> keys = options_.identities;
  for (const char* name : {"id_ed25519", "id_ecdsa", "id_rsa"}) {
    auto p = home_dir() / ".ssh" / name;
    std::error_code ec;
    if (std::filesystem::exists(p, ec) && std::find(keys.begin(), keys.end(), p) == keys.end()) keys.push_back(p);
  }
  for (const auto& path : keys) {
    ssh_key raw = nullptr;
    if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &raw) != SSH_OK) {
      tried.push_back(path.string() + " (unreadable or passphrase-protected: load it in ssh-agent)");
      continue;
    }
    KeyPtr key(raw);
    tried.push_back(path.string());
    const int rc = ssh_userauth_publickey(session_, nullptr, key.get());
    if (rc == SSH_AUTH_SUCCESS) return {};
    if (rc == SSH_AUTH_ERROR) return std::unexpected(ssh_error(ErrorKind::Auth, "authentication failed"));
  }
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
  if (list.empty()) list = "no ssh-agent and no key in ~/.ssh; use --identity FILE";
  return fail(ErrorKind::Auth, describe(host_) + ": authentication refused for user " + user() + " (tried: " + list + ")");
}

}  // namespace kbz::transport
