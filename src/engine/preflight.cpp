#include "kbz/engine/preflight.hpp"

#include <fmt/format.h>

#include "kbz/core/text.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/engine/steps/volume.hpp"

namespace kbz {
namespace {

// Each script ends with its verdict line; none changes anything on the host. Builtins parse where they can:
// the first batch of every apply runs these on every host.
std::string os_script() {
  return ". /etc/os-release 2>/dev/null; v=\"${ID:-?} ${VERSION_ID:-?}\"\n"
         "if [ \"$v\" = 'ubuntu 24.04' ]; then echo \"ok $PRETTY_NAME\"; "
         "else echo \"warn $PRETTY_NAME (Ubuntu 24.04 expected)\"; fi";
}

std::string disk_script(int min_gb) {
  return fmt::format(
      "kb=$(df -Pk / | {{ read -r _; read -r _ _ _ kb _; echo \"$kb\"; }}); gb=$((kb / 1048576))\n"
      "if [ \"$kb\" -ge $(({0} * 1048576)) ]; then echo \"ok $gb GB free on /\"; "
      "else echo \"fail only $gb GB free on / (at least {0} GB)\"; fi",
      min_gb);
}

std::string clock_script() {
  return "s=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)\n"
         "case \"$s\" in yes) echo 'ok clock synchronized (NTP)';; "
         "*) echo \"warn clock not reported synchronized (NTPSynchronized=${s:-unknown})\";; esac";
}

std::string dns_script(const std::string& name) {
  return fmt::format(
      "set -f; set -- $(getent hosts {0}); a=${{1:-}}\n"
      "if [ -n \"$a\" ]; then echo \"ok {1} resolves to $a\"; else echo \"fail {1} does not resolve\"; fi",
      shell_quote(name), name);
}

// A bound port is fine only when the process holding it runs in the module's own container (host network:
// the service's process is in the container's cgroup, whose path holds the container ID).
std::string port_script(const Listen& l) {
  return fmt::format(
      "line=$(ss -H -l -n -p -{0} 'sport = :{1}' 2>/dev/null | head -n 1)\n"
      "if [ -z \"$line\" ]; then echo 'ok {1}/{2} free'; exit 0; fi\n"
      "pid=$(echo \"$line\" | sed -n 's/.*pid=\\([0-9]*\\).*/\\1/p' | head -n 1)\n"
      "proc=$(echo \"$line\" | sed -n 's/.*users:((\"\\([^\"]*\\)\".*/\\1/p')\n"
      "cid=$(grep -o '[0-9a-f]\\{{64\\}}' \"/proc/$pid/cgroup\" 2>/dev/null | head -n 1)\n"
      "name=''; [ -n \"$cid\" ] && name=$(docker inspect -f '{{{{.Name}}}}' \"$cid\" 2>/dev/null | sed "
      "'s|^/||')\n"
      "if [ -n \"$name\" ] && [ \"$name\" = {3} ]; then echo \"ok {1}/{2} held by our container $name\"; "
      "else echo \"fail {1}/{2} held by ${{name:+container $name, }}${{proc:-a process}} (pid "
      "${{pid:-?}})\"; fi",
      l.proto == "udp" ? "u" : "t", l.port, l.proto, shell_quote(l.owner));
}

}  // namespace

std::vector<PreflightItem> preflight_items(const std::vector<const Module*>& modules, const Host& host,
                                           const Settings& settings) {
  std::vector<PreflightItem> items = {{"os", os_script()},
                                      {"disk-root", disk_script(settings.preflight_min_free_root_gb)},
                                      {"clock", clock_script()},
                                      {"dns", dns_script(settings.preflight_dns_name)}};
  for (const Module* m : modules)
    for (const auto& l : m->listens) {
      if (!selector_matches(l.hosts, host)) continue;
      const std::string id = fmt::format("port-{}/{}", l.port, l.proto);
      if (std::none_of(items.begin(), items.end(), [&](const PreflightItem& i) { return i.id == id; }))
        items.push_back({id, port_script(l)});
    }
  // The data volume a module's `volume` step prepares on this host (kbz.yaml volumes): attached, big enough.
  for (const Module* m : modules)
    for (const auto& step : m->steps) {
      if (step.kind_name() != "volume" || !selector_matches(step.hosts, host)) continue;
      const auto v = volume_for_host(settings.raw, host);
      if (v &&
          std::none_of(items.begin(), items.end(), [](const PreflightItem& i) { return i.id == "volume"; }))
        items.push_back({"volume", volume_preflight_script(*v)});
    }
  return items;
}

std::vector<BatchItem> preflight_batch(const std::vector<PreflightItem>& items) {
  std::vector<BatchItem> out;
  for (const auto& i : items) out.push_back({std::string(kPreflightPrefix) + i.id, i.script});
  return out;
}

PreflightResult parse_preflight(const std::string& id, int exit_status, const std::string& output) {
  PreflightResult r{id, PreflightStatus::Fail, {}};
  std::string verdict;
  for (const auto& l : lines_of(output))
    if (!trim(l).empty()) verdict = std::string(trim(l));
  const auto word = verdict.substr(0, verdict.find(' '));
  r.detail = verdict.find(' ') == std::string::npos ? "" : verdict.substr(verdict.find(' ') + 1);
  if (word == "ok")
    r.status = PreflightStatus::Ok;
  else if (word == "warn")
    r.status = PreflightStatus::Warn;
  else if (word == "fail")
    r.status = PreflightStatus::Fail;
  else
    r.detail = fmt::format("no verdict (exit {}): {}", exit_status, tail_lines(output, 3));
  return r;
}

std::string preflight_failures(const std::vector<PreflightResult>& results) {
  std::string out;
  for (const auto& r : results)
    if (r.status == PreflightStatus::Fail)
      out += (out.empty() ? "preflight: " : "; ") + r.id + ": " + r.detail;
  return out;
}

const char* preflight_word(PreflightStatus s) {
  switch (s) {
    case PreflightStatus::Ok:
      return "ok";
    case PreflightStatus::Warn:
      return "warn";
    case PreflightStatus::Fail:
      return "fail";
  }
  return "?";
}

}  // namespace kbz
