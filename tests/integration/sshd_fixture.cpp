#include "sshd_fixture.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace kbz::test {
namespace fs = std::filesystem;
namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text, fs::perms perms) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  fs::permissions(p, perms);
}

void must(const ProcessResult& r, const std::string& what) {
  if (r.exit_status != 0) throw std::runtime_error(what + " failed (" + std::to_string(r.exit_status) + "): " + r.err);
}

void keygen(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  fs::remove(path.string() + ".pub", ec);
  must(run_process({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kbz-test", "-f", path.string()}),
       "ssh-keygen " + path.string());
}

bool alive(pid_t pid) { return pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0; }

// Host keys for a 50-host fleet: spawn every ssh-keygen at once, then wait (fork+exec is slow here).
void keygen_all(const std::vector<fs::path>& paths) {
  std::vector<pid_t> pids;
  for (const auto& path : paths) {
    const std::string p = path.string();
    const char* argv[] = {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kbz-test", "-f", p.c_str(), nullptr};
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
      throw std::runtime_error("cannot start ssh-keygen");
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("ssh-keygen failed");
  }
}

}  // namespace

std::string sshd_skip_reason() {
  if (geteuid() != 0) return "needs root: starts sshd daemons and creates the kbztest/kbznosudo users";
  if (access("/usr/sbin/sshd", X_OK) != 0) return "needs /usr/sbin/sshd (openssh-server)";
  return {};
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  char out_tmpl[] = "/tmp/kbz-proc-out-XXXXXX";
  char err_tmpl[] = "/tmp/kbz-proc-err-XXXXXX";
  const int out_fd = mkstemp(out_tmpl);
  const int err_fd = mkstemp(err_tmpl);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  ProcessResult r;
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data()) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    r.err = "cannot start " + argv[0];
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out_fd);
  close(err_fd);
  r.out = slurp(out_tmpl);
  r.err += slurp(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return r;
}

void ensure_test_users() {
  ::mkdir("/run/sshd", 0755);  // sshd's privilege-separation directory
  for (const char* user : {kSudoUser, kNoSudoUser}) {
    if (getpwnam(user) != nullptr) continue;
    auto r = run_process({"/usr/sbin/useradd", "-m", "-s", "/bin/sh", "-p", "*", user});
    if (r.exit_status != 0 && r.exit_status != 9 /* created meanwhile by another suite */) must(r, "useradd");
  }
  const fs::path sudoers = "/etc/sudoers.d/kbztest";
  if (!fs::exists(sudoers)) {
    const fs::path tmp = "/etc/sudoers.d/.kbztest.tmp";  // sudo ignores names with a dot
    write_file(tmp, "kbztest ALL=(ALL) NOPASSWD: ALL\n", fs::perms::owner_read | fs::perms::group_read);
    fs::rename(tmp, sudoers);
  }
}

SshdFleet::SshdFleet(size_t count, int port) : port_(port) {
  ensure_test_users();
  char tmpl[] = "/tmp/kbz-sshd-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  // sshd reads AuthorizedKeysFile as the test user: the folder must be traversable.
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  keygen(client_key());
  fs::copy_file(client_key().string() + ".pub", dir_ / "authorized_keys");
  fs::permissions(dir_ / "authorized_keys", fs::perms::owner_read | fs::perms::owner_write |
                                                fs::perms::group_read | fs::perms::others_read);

  std::vector<fs::path> keys;
  for (size_t i = 0; i < count; ++i) {
    fs::create_directories(dir_ / ("host" + std::to_string(i + 1)));
    keys.push_back(dir_ / ("host" + std::to_string(i + 1)) / "host_key");
  }
  keygen_all(keys);

  std::string last_error;
  for (int net = 1; net <= 40; ++net) {
    daemons_.clear();
    for (size_t i = 0; i < count; ++i) {
      Daemon d;
      d.address = "127.0." + std::to_string(net) + "." + std::to_string(i + 1);
      d.home = dir_ / ("host" + std::to_string(i + 1));
      daemons_.push_back(d);
      spawn_daemon(daemons_.back());
    }
    bool ok = true;
    for (auto& d : daemons_) ok = wait_ready(d, &last_error) && ok;
    if (ok) {
      write_known_hosts();
      return;
    }
    stop_all();  // an address of this /24 is busy (another suite): try the next one
  }
  fs::remove_all(dir_);
  throw std::runtime_error("cannot start sshd fleet: " + last_error);
}

SshdFleet::~SshdFleet() {
  stop_all();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void SshdFleet::stop_all() {
  for (size_t i = 0; i < daemons_.size(); ++i) stop(i);
}

bool SshdFleet::start_daemon(Daemon& d, std::string* why) {
  spawn_daemon(d);
  return wait_ready(d, why);
}

void SshdFleet::spawn_daemon(Daemon& d) {
  const fs::path conf = d.home / "sshd_config";
  const fs::path log = d.home / "sshd.log";
  std::ofstream(conf, std::ios::trunc)
      << "ListenAddress " << d.address << "\n"
      << "Port " << port_ << "\n"
      << "HostKey " << (d.home / "host_key").string() << "\n"
      << "PidFile " << (d.home / "sshd.pid").string() << "\n"
      << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
      << "StrictModes no\n"  // /tmp is world-writable; the fixture's own files are 0644/0755
      << "UsePAM no\n"
      << "PasswordAuthentication no\n"
      << "KbdInteractiveAuthentication no\n"
      << "PermitRootLogin no\n"
      << "AllowUsers " << kSudoUser << " " << kNoSudoUser << "\n"
      << "UseDNS no\n"
      << "MaxStartups 200\n"
      << "MaxSessions 100\n"
      << "Subsystem sftp internal-sftp\n"
      << "LogLevel DEBUG3\n";  // DEBUG3 shows each exec'd command line: tests check what reached the server
  std::error_code ec;
  fs::remove(log, ec);
  const std::string conf_s = conf.string(), log_s = log.string();
  const char* argv[] = {"/usr/sbin/sshd", "-f", conf_s.c_str(), "-D", "-E", log_s.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const int rc = posix_spawn(&d.pid, argv[0], &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start /usr/sbin/sshd");
}

bool SshdFleet::wait_ready(Daemon& d, std::string* why) {
  const fs::path log = d.home / "sshd.log";
  // Ready when *our* daemon says it listens (a connect() could reach another suite's daemon).
  const std::string ready = "Server listening on " + d.address + " port " + std::to_string(port_);
  for (int waited = 0; waited < 5000; waited += 5) {
    if (slurp(log).find(ready) != std::string::npos) return true;
    if (!alive(d.pid)) {
      *why = d.address + ": " + slurp(log);
      d.pid = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  *why = d.address + ": sshd not listening after 5 s: " + slurp(log);
  return false;
}

void SshdFleet::stop(size_t i) {
  Daemon& d = daemons_.at(i);
  if (d.pid <= 0) return;
  kill(d.pid, SIGTERM);  // by pid, never by name: other suites run their own sshd
  waitpid(d.pid, nullptr, 0);
  d.pid = -1;
}

void SshdFleet::start(size_t i) {
  std::string why;
  if (!start_daemon(daemons_.at(i), &why)) throw std::runtime_error("cannot restart sshd: " + why);
}

void SshdFleet::replace_host_key(size_t i) {
  stop(i);
  keygen(daemons_.at(i).home / "host_key");
  start(i);
}

std::string SshdFleet::address(size_t i) const { return daemons_.at(i).address; }

std::string SshdFleet::hostname(size_t i) const {
  std::string n = std::to_string(i + 1);
  return "kbz-test-" + std::string(n.size() < 2 ? 2 - n.size() : 0, '0') + n;
}

Host SshdFleet::host(size_t i, const std::string& user) const {
  Host h;
  h.env = "prod";
  h.public_ip = address(i);
  h.private_ip = address(i);
  h.address = address(i);
  h.hostname = hostname(i);
  h.fqdn = hostname(i) + ".test";
  h.user = user;
  h.pool = "test";
  h.role = "test";
  h.port = port_;
  return h;
}

std::vector<Host> SshdFleet::hosts(const std::string& user) const {
  std::vector<Host> out;
  for (size_t i = 0; i < size(); ++i) out.push_back(host(i, user));
  return out;
}

ConnectOptions SshdFleet::connect_options() const {
  ConnectOptions o;
  o.identities = {client_key()};
  o.known_hosts = known_hosts();
  o.use_agent = false;
  o.connect_timeout = Millis(5000);
  o.command_timeout = Millis(30000);
  return o;
}

std::filesystem::path SshdFleet::write_servers_tsv(const std::string& user) const {
  const fs::path path = dir_ / "servers.tsv";
  std::ofstream out(path, std::ios::trunc);
  out << "ENV\tIP_PUBLIQUE\tHOSTNAME\tIP_PRIVEE\tFQDN\tUSER_SSH\tPOOL\tROLE\tSUBROLE\tDOCKER_STACK\tCORE\tNOTES\n";
  for (size_t i = 0; i < size(); ++i) {
    out << "prod\t" << address(i) << '\t' << hostname(i) << '\t' << address(i) << '\t' << hostname(i) << ".test\t"
        << user << "\ttest-pool\ttest\tnode\tnone\tno\tsshd fixture host " << (i + 1) << '\n';
  }
  return path;
}

std::string SshdFleet::known_hosts_line(size_t i) const {
  std::istringstream pub(slurp(daemons_.at(i).home / "host_key.pub"));
  std::string type, blob;
  pub >> type >> blob;
  const std::string name = port_ == 22 ? address(i) : "[" + address(i) + "]:" + std::to_string(port_);
  return name + " " + type + " " + blob;
}

void SshdFleet::write_known_hosts() const {
  std::string text;
  for (size_t i = 0; i < size(); ++i) text += known_hosts_line(i) + "\n";
  write_file(known_hosts(), text, fs::perms::owner_read | fs::perms::owner_write);
}

std::string SshdFleet::log(size_t i) const { return slurp(daemons_.at(i).home / "sshd.log"); }

}  // namespace kbz::test
