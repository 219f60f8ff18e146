// Facts: what a host IS (OS, ssh unit name, resolver kind, the installer's source address...), gathered in
// the same exec as the checks, never assumed. Templates see them as facts.<name>; `when:` tests them.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace kbz {

using Facts = std::map<std::string, std::string>;

// Shell snippet printing `name=value` lines: os_id, os_version_id, os_codename, ssh_unit (ssh|sshd),
// resolver (resolved|resolvconf|static), init (systemd|other), virt (systemd-detect-virt), container
// (yes|no; both kept per boot in /run/kbz-install.virt), ssh_client_ip (from $SSH_CONNECTION),
// arch, kernel, hostname. (No docker_version: no module read it, and dpkg-query cost ~10 ms per batch.)
std::string facts_script();
Facts parse_facts(const std::string& output);
// The names facts_script() prints (templates may reference them before the values are known).
const std::vector<std::string>& fact_names();

// `when:` conditions: "facts.NAME == VALUE", "facts.NAME != VALUE", "host.role == k8s",
// "settings.lab != true"; empty = true.
struct Host;
bool evaluate_when(const std::string& condition, const Facts& facts, const Host& host,
                   const std::map<std::string, std::string>& settings = {});

}  // namespace kbz
