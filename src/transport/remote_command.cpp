#include "transport/remote_command.hpp"

namespace kbz::transport {

std::string join_command(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

bool needs_sudo(Privilege privilege, std::string_view ssh_user) {
  return privilege == Privilege::Root && ssh_user != "root";
}

std::string with_privilege(const std::string& command, Privilege privilege, std::string_view ssh_user) {
  if (!needs_sudo(privilege, ssh_user)) return command;
  // sudo resets the environment; SSH_CONNECTION is carried over because modules read the installer's own
  // source address from it (e.g. to keep it allowed before a firewall is enabled).
  // A script on stdin (`sh -s`, every batch) needs no `sh -c` around it: one shell fewer per batch.
  const std::string run = command == "sh -s" ? command : "sh -c " + shell_quote(command);
  return "sudo -n -- env SSH_CONNECTION=\"$SSH_CONNECTION\" " + run;
}

bool sudo_refused(const ExecResult& result) {
  if (result.exit_status != 1) return false;
  // sudo's own wording (C locale, which is what a non-interactive exec gets). "a password is required" covers
  // both "user has no rule" and "rule without NOPASSWD" under -n.
  const std::string& e = result.err;
  return e.starts_with("sudo: a password is required") ||
         e.find("\nsudo: a password is required") != std::string::npos ||
         e.find("is not in the sudoers file") != std::string::npos ||
         e.find("is not allowed to execute") != std::string::npos;
}

std::string sudo_refused_message(std::string_view user, std::string_view host) {
  return "user " + std::string(user) + " has no passwordless sudo on " + std::string(host) +
         " (add a NOPASSWD rule in /etc/sudoers.d/, or connect as root)";
}

std::string describe(const Host& host) {
  std::string out = host.hostname.empty() ? host.address : host.hostname;
  out += " (" + host.address;
  if (host.port != 22) out += ":" + std::to_string(host.port);
  out += ")";
  return out;
}

}  // namespace kbz::transport
