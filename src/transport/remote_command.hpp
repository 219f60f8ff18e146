// Pure helpers that build the command lines sent to hosts and read sudo's refusals. No libssh here, so the
// unit tests cover them without a server.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "kbz/core/text.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz::transport {

using kbz::shell_quote;  // kbz/core/text.hpp

// Joins CLI words into one command line (`exec -- ls -l /` and `exec -- 'ls -l /'` mean the same, as with
// ssh).
std::string join_command(const std::vector<std::string>& words);

// Wraps `command` in `sudo -n sh -c '...'` when it needs root and the SSH user is not root; -n makes a
// missing sudo right fail at once instead of waiting for a password nobody will type.
std::string with_privilege(const std::string& command, Privilege privilege, std::string_view ssh_user);
bool needs_sudo(Privilege privilege, std::string_view ssh_user);

// True when sudo itself refused (no passwordless right), as opposed to the wrapped command failing.
bool sudo_refused(const ExecResult& result);
std::string sudo_refused_message(std::string_view user, std::string_view host);

// "hostname (address:port)": how every message names a host.
std::string describe(const Host& host);

}  // namespace kbz::transport
