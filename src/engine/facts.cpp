// Facts are gathered by a POSIX sh snippet in the same exec as the checks (no extra round trip).
#include "kbz/engine/facts.hpp"

#include <fmt/format.h>

#include <sstream>

#include "kbz/core/text.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {

std::string facts_script() {
  // Each probe must print exactly one line and never fail the batch: unknown values stay empty. It runs in
  // every first batch on every host: builtins where they do (read, case), one process where two would.
  return R"SH(
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=${ID:-}"
echo "os_version_id=${VERSION_ID:-}"
echo "os_codename=${VERSION_CODENAME:-}"
if [ -e /lib/systemd/system/ssh.service ] || [ -e /usr/lib/systemd/system/ssh.service ]; then echo "ssh_unit=ssh"; else echo "ssh_unit=sshd"; fi
kbz_r=''; [ -L /etc/resolv.conf ] && kbz_r=$(readlink /etc/resolv.conf)
case "$kbz_r" in
  *systemd*) echo "resolver=resolved" ;;
  ?*) if [ -d /etc/resolvconf ]; then echo "resolver=resolvconf"; else echo "resolver=static"; fi ;;
  *) echo "resolver=static" ;;
esac
if [ -d /run/systemd/system ]; then echo "init=systemd"; else echo "init=other"; fi
# none | kvm | docker | lxc ...: containers must not set the clock nor global kernel settings. container=yes
# is what `systemd-detect-virt --container` says (it also wins over the VM type in plain virt). The two cost
# ~5 ms each in every batch and cannot change before a reboot: kept in /run (tmpfs) with the boot id.
kbz_b=''; read -r kbz_b </proc/sys/kernel/random/boot_id 2>/dev/null
kbz_sb=''; kbz_v=''; kbz_c=''
read -r kbz_sb kbz_v kbz_c </run/kbz-install.virt 2>/dev/null
if [ -z "$kbz_b" ] || [ "$kbz_sb" != "$kbz_b" ] || [ -z "$kbz_c" ]; then
  kbz_v=$(systemd-detect-virt 2>/dev/null); kbz_c=no
  systemd-detect-virt --container --quiet 2>/dev/null && kbz_c=yes
  [ -n "$kbz_b" ] && [ -n "$kbz_v" ] && printf '%s %s %s\n' "$kbz_b" "$kbz_v" "$kbz_c" >/run/kbz-install.virt 2>/dev/null
fi
echo "virt=$kbz_v"
echo "container=$kbz_c"
set -- ${SSH_CONNECTION:-}
echo "ssh_client_ip=${1:-}"
# uname prints the kernel release before the machine, whatever the order of the options.
set -- $(uname -r -m)
echo "arch=${2:-}"
echo "kernel=${1:-}"
kbz_h=""; read -r kbz_h 2>/dev/null </proc/sys/kernel/hostname || kbz_h=$(hostname)
echo "hostname=$kbz_h"
)SH";
}

const std::vector<std::string>& fact_names() {
  static const std::vector<std::string> names = {"os_id",         "os_version_id", "os_codename", "ssh_unit",
                                                 "resolver",      "init",          "virt",        "container",
                                                 "ssh_client_ip", "arch",          "kernel",      "hostname"};
  return names;
}

Facts parse_facts(const std::string& output) {
  Facts facts;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    facts[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return facts;
}

namespace {
// Values may be quoted in a condition: when: "facts.resolver == 'resolved'".
std::string unquoted(std::string_view s) { return std::string(trim(s, " \t\"'")); }

std::string host_field(const Host& h, const std::string& name) {
  if (name == "hostname") return h.hostname;
  if (name == "role") return h.role;
  if (name == "subrole") return h.subrole;
  if (name == "pool") return h.pool;
  if (name == "private_ip") return h.private_ip;
  if (name == "public_ip") return h.public_ip;
  if (name == "fqdn") return h.fqdn;
  if (name == "user") return h.user;
  if (name == "env") return h.env;
  return {};
}
}  // namespace

bool evaluate_when(const std::string& condition, const Facts& facts, const Host& host,
                   const std::map<std::string, std::string>& settings) {
  const std::string c = unquoted(condition);
  if (c.empty()) return true;
  const bool negate = c.find("!=") != std::string::npos;
  const auto op = c.find(negate ? "!=" : "==");
  if (op == std::string::npos) return false;  // the loader rejects malformed conditions; be safe anyway
  const std::string lhs = unquoted(c.substr(0, op));
  const std::string rhs = unquoted(c.substr(op + 2));
  std::string value;
  if (lhs.starts_with("facts.")) {
    const auto it = facts.find(lhs.substr(6));
    if (it != facts.end()) value = it->second;
  } else if (lhs.starts_with("host.")) {
    value = host_field(host, lhs.substr(5));
  } else if (lhs.starts_with("settings.")) {
    const auto it = settings.find(lhs.substr(9));
    if (it != settings.end()) value = it->second;
  }
  return negate ? value != rhs : value == rhs;
}

}  // namespace kbz
