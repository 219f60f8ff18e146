#include "kbz/engine/credentials.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "kbz/core/atomic_file.hpp"
#include "kbz/core/scram.hpp"
#include "kbz/core/x509_ca.hpp"

namespace kbz::credentials {
namespace {

namespace fs = std::filesystem;

std::string sys_error(const std::string& what, int err) { return what + ": " + std::strerror(err); }

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Closes a file descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

bool valid_name(std::string_view n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool valid_key(std::string_view k) {
  if (k.empty() || k.size() > 128 || (k[0] >= '0' && k[0] <= '9')) return false;
  return std::all_of(k.begin(), k.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Refuses anything but a private directory/file of ours: a secret readable by group/others is leaked.
enum class Entry { File, Directory };

Result<void> check_private(const struct stat& st, const std::string& path, Entry entry) {
  const bool directory = entry == Entry::Directory;
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    return fail(ErrorKind::Input, path + ": not a " + (directory ? "directory" : "regular file"));
  }
  if (st.st_uid != ::geteuid()) {
    return fail(ErrorKind::Input, path + ": owned by uid " + std::to_string(st.st_uid) +
                                      ", not by the user running kbz-install");
  }
  if (st.st_mode & 077) {
    return fail(ErrorKind::Input, path + ": permissions " + octal(st.st_mode) +
                                      " let group/others in; run `chmod " + (directory ? "700" : "600") +
                                      " " + path + "` and consider its secrets leaked (rotate them)");
  }
  return {};
}

Result<void> check_dir(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return fail(ErrorKind::Io, sys_error(dir, errno));
  if (S_ISLNK(st.st_mode)) return fail(ErrorKind::Input, dir + ": is a symbolic link; use a real directory");
  return check_private(st, dir, Entry::Directory);
}

// Creates <workdir>/credentials as 0700 whatever the umask, or checks the one that is there.
Result<void> make_dir(const std::string& workdir, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(workdir, ec);
  if (ec) return fail(ErrorKind::Io, workdir + ": " + ec.message());
  if (::mkdir(dir.c_str(), 0700) == 0) {
    if (::chmod(dir.c_str(), 0700) != 0) return fail(ErrorKind::Io, sys_error(dir, errno));
  } else if (errno != EEXIST) {
    return fail(ErrorKind::Io, sys_error(dir, errno));
  }
  return check_dir(dir);
}

// Reads a credentials file we own with 0600-or-stricter rights; nullopt when it does not exist.
Result<std::optional<std::string>> read_private(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<std::string>{};
    if (errno == ELOOP) return fail(ErrorKind::Input, path + ": is a symbolic link; use a real file");
    return fail(ErrorKind::Io, sys_error(path, errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(ErrorKind::Io, sys_error(path, errno));
  if (auto ok = check_private(st, path, Entry::File); !ok) return std::unexpected(ok.error());
  std::string text;
  std::array<char, 4096> buf;
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(ErrorKind::Io, sys_error(path, errno));
    if (n == 0) break;
    text.append(buf.data(), static_cast<size_t>(n));
  }
  return std::optional<std::string>{std::move(text)};
}

// KEY=VALUE lines; '#' comments and blank lines allowed. Messages never quote a line: it may be a secret.
Result<std::vector<std::pair<std::string, std::string>>> parse_env(const std::string& text,
                                                                   const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> problems;
  size_t start = 0;
  for (int lineno = 1; start < text.size(); ++lineno) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    const auto eq = line.find('=');
    const std::string key(line.substr(0, eq == std::string_view::npos ? 0 : eq));
    if (eq == std::string_view::npos || !valid_key(key)) {
      problems.push_back(path + ":" + std::to_string(lineno) + ": not a KEY=VALUE line (KEY is A-Z, 0-9, _)");
    } else if (eq + 1 == line.size()) {
      problems.push_back(path + ":" + std::to_string(lineno) + ": " + key + " has an empty value");
    } else if (std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; })) {
      problems.push_back(path + ":" + std::to_string(lineno) + ": " + key + " is set twice");
    } else {
      out.emplace_back(key, std::string(line.substr(eq + 1)));
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return fail(ErrorKind::Input, message);
  }
  return out;
}

// Rejection sampling: a byte is used only when it falls in the largest multiple of the alphabet size, so
// every character is equally likely.
Result<std::string> generate(size_t length, Charset charset) {
  static constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr std::string_view kHex = "0123456789abcdef";
  const std::string_view alphabet = charset == Charset::Hex ? kHex : kAlnum;
  const unsigned limit = 256 - (256 % alphabet.size());
  std::string out;
  out.reserve(length);
  std::array<unsigned char, 256> bytes;
  while (out.size() < length) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return fail(ErrorKind::Internal, "OpenSSL RAND_bytes failed: no secure random source");
    }
    for (const unsigned char b : bytes) {
      if (b >= limit) continue;
      out += alphabet[b % alphabet.size()];
      if (out.size() == length) break;
    }
  }
  std::fill(bytes.begin(), bytes.end(), 0);
  return out;
}

}  // namespace

std::string dir_of(const std::string& workdir) { return (fs::path(workdir) / "credentials").string(); }

namespace {

// One writer at a time (an flock on credentials/.lock): two runs generating the same key would otherwise
// both "win" and the first value, maybe already applied to servers, would be lost. `keep` says whether the
// value already there stays (false: replaced in place); `make` gives a new one.
Result<Secret> ensure_with(const std::string& workdir, const std::string& name, const std::string& key,
                           const std::function<bool(const std::string&)>& keep,
                           const std::function<Result<std::string>()>& make) {
  if (!valid_name(name))
    return fail(ErrorKind::Usage, "credentials file name '" + name + "' must use a-z, 0-9, '-', '_'");
  if (!valid_key(key)) return fail(ErrorKind::Usage, "credentials key '" + key + "' must use A-Z, 0-9, '_'");
  const std::string dir = dir_of(workdir);
  if (auto ok = make_dir(workdir, dir); !ok) return std::unexpected(ok.error());

  const std::string lock_path = dir + "/.lock";
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (lock.get() < 0 || ::fchmod(lock.get(), 0600) != 0)
    return fail(ErrorKind::Io, sys_error(lock_path, errno));
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return fail(ErrorKind::Io, sys_error(lock_path, errno));
  }

  const std::string path = dir + "/" + name + ".env";
  auto existing = read_private(path);
  if (!existing) return std::unexpected(existing.error());
  std::string content = existing->value_or("");
  auto pairs = parse_env(content, path);
  if (!pairs) return std::unexpected(pairs.error());
  bool replace = false;
  for (auto& [k, v] : *pairs) {
    if (k != key) continue;
    if (keep(v)) return Secret(std::move(v));
    replace = true;
  }

  auto value = make();
  if (!value) return std::unexpected(value.error());
  Secret secret(std::move(*value));  // registered with the Masker before it is written anywhere
  if (replace) {
    content.clear();
    for (const auto& [k, v] : *pairs) content += k + "=" + (k == key ? secret.reveal() : v) + "\n";
  } else {
    if (!content.empty() && content.back() != '\n') content += '\n';
    content += key + "=" + secret.reveal() + "\n";
  }
  if (auto ok = write_file_atomic(path, content, 0600); !ok) return std::unexpected(ok.error());
  std::fill(content.begin(), content.end(), '\0');
  return secret;
}

}  // namespace

Result<Secret> ensure(const std::string& workdir, const std::string& name, const std::string& key,
                      std::size_t length, Charset charset) {
  if (length < 8 || length > 4096) {
    return fail(ErrorKind::Usage, "credentials " + name + "/" + key + ": length must be 8..4096");
  }
  return ensure_with(
      workdir, name, key, [](const std::string&) { return true; }, [&] { return generate(length, charset); });
}

Result<Secret> ensure_rsa_key(const std::string& workdir, const std::string& name, const std::string& key) {
  return ensure_with(
      workdir, name, key, [](const std::string&) { return true; },
      []() -> Result<std::string> {
        auto pem = x509::new_rsa_key_pem();
        if (!pem) return std::unexpected(pem.error());
        std::string out = x509::base64_encode(*pem);
        std::fill(pem->begin(), pem->end(), '\0');
        return out;
      });
}

std::optional<Derivation> derivation_named(std::string_view name) {
  if (name == "scram-sha-256") return Derivation::ScramSha256;
  if (name == "x509-ca") return Derivation::X509Ca;
  if (name == "spki-sha256") return Derivation::SpkiSha256;
  return std::nullopt;
}

Result<Secret> ensure_derived(const std::string& workdir, const std::string& name, const std::string& key,
                              Derivation derivation, const Secret& source) {
  // PEM texts travel base64-encoded in credentials (one line each).
  const auto pem_of = [&](const std::string& value, const std::string& what) -> Result<std::string> {
    auto pem = x509::base64_decode(value);
    if (!pem)
      return fail(ErrorKind::Input, dir_of(workdir) + "/" + name + ".env: " + what + " is not base64");
    return pem;
  };
  switch (derivation) {
    case Derivation::ScramSha256:
      return ensure_with(
          workdir, name, key,
          [&](const std::string& have) { return scram_sha256_matches(have, source.reveal()); },
          [&] { return scram_sha256_verifier(source.reveal()); });
    case Derivation::X509Ca: {
      auto key_pem = pem_of(source.reveal(), "the CA key (source of " + key + ")");
      if (!key_pem) return std::unexpected(key_pem.error());
      return ensure_with(
          workdir, name, key,
          [&](const std::string& have) {
            auto cert = x509::base64_decode(have);
            return cert && x509::ca_matches_key(*cert, *key_pem);
          },
          [&]() -> Result<std::string> {
            auto cert = x509::new_self_signed_ca_pem(*key_pem, "kubernetes", 3650);
            if (!cert) return std::unexpected(cert.error());
            return x509::base64_encode(*cert);
          });
    }
    case Derivation::SpkiSha256: {
      auto cert_pem = pem_of(source.reveal(), "the CA certificate (source of " + key + ")");
      if (!cert_pem) return std::unexpected(cert_pem.error());
      auto pin = x509::spki_sha256_pin(*cert_pem);
      if (!pin) return std::unexpected(pin.error());
      return ensure_with(
          workdir, name, key, [&](const std::string& have) { return have == *pin; },
          [&]() -> Result<std::string> { return *pin; });
    }
  }
  return fail(ErrorKind::Internal, "unknown derivation");
}

Result<Store> load_all(const std::string& workdir) {
  Store store;
  const std::string dir = dir_of(workdir);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return store;  // nothing generated yet
    return fail(ErrorKind::Io, sys_error(dir, errno));
  }
  if (auto ok = check_dir(dir); !ok) return std::unexpected(ok.error());

  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto& p = entry.path();
    if (p.extension() == ".env" && !p.filename().string().starts_with(".")) files.push_back(p);
  }
  if (ec) return fail(ErrorKind::Io, dir + ": " + ec.message());
  std::sort(files.begin(), files.end());

  std::vector<std::string> problems;
  std::map<std::string, std::string> key_file;  // KEY -> first file holding it
  for (const auto& p : files) {
    const std::string path = p.string();
    auto text = read_private(path);
    if (!text || !*text) {
      problems.push_back(text ? path + ": vanished while reading" : text.error().message);
      continue;
    }
    auto pairs = parse_env(**text, path);
    if (!pairs) {
      problems.push_back(pairs.error().message);
      continue;
    }
    const std::string name = p.stem().string();
    for (auto& [k, v] : *pairs) {
      Secret secret(std::move(v));  // registers with the Masker
      if (auto it = store.keys.find(k); it != store.keys.end()) {
        if (it->second.reveal() != secret.reveal()) {
          problems.push_back(path + ": " + k + " differs from the value in " + key_file[k] +
                             " (templates see one credentials." + k + ")");
        }
      } else {
        store.keys.emplace(k, secret);
        key_file[k] = path;
      }
      store.files[name].emplace(k, std::move(secret));
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return fail(ErrorKind::Input, message);
  }
  return store;
}

}  // namespace kbz::credentials
