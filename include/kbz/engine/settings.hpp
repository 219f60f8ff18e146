// kbz.yaml: what the team chooses. Every key has a documented default (docs/SETTINGS.md); an unknown key
// is an error with line:column.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"

namespace kbz {

// A setting a module declares in its module.yaml (`settings:`), accepted in kbz.yaml at its dotted key
// (postgres.max_connections -> `postgres: {max_connections: 300}`) and seen by templates as settings.<key>.
enum class SettingType { String, Integer, Boolean, Cidr, Ip, List };
struct SettingSpec {
  std::string key;  // dotted, lower-case words: postgres.max_connections
  SettingType type = SettingType::String;
  std::vector<std::string> default_value;  // one item except for lists
  std::string pattern;                     // String and List items: the whole value must match (ECMAScript)
  long long min = 0, max = 0;              // Integer bounds (both 0 = none)
  std::string doc_fr;                      // one line for the module doc's settings table
  int module = 0;                          // who declares it
};
const char* setting_type_name(SettingType t);

// A data disk (Hetzner volume): which hosts, where it is mounted, how big it must be at least. kbz.yaml
// `volumes:` replaces the whole default table (the team's layout, default_volumes()); `volumes: []` = none.
// The first entry whose selector matches a host is its volume (the `volume` step kind prepares it).
struct VolumeSetting {
  std::string hosts;       // selector, same syntax as --hosts (db-master-*, role:k8s, ...)
  std::string mount;       // absolute path
  std::string fs = "xfs";  // only xfs
  int min_gb = 0;          // GiB (what Hetzner calls GB)
  std::string device;      // "" = the one /dev/disk/by-id/scsi-0HC_Volume_* attached to the host
  std::string label;       // filesystem label, 12 characters at most (XFS); kbz-install's mark on the disk
  bool required = false;   // true: a host without the disk is refused; false: its data stays on /
};
std::vector<VolumeSetting> default_volumes();

struct Settings {
  std::string private_cidr = "10.0.0.0/16";
  std::vector<std::string> admin_cidrs;  // extra sources allowed to SSH (e.g. install-01's public IP/32)
  std::vector<std::string> dns_servers = {"1.1.1.1", "8.8.8.8"};
  std::string timezone = "Europe/Paris";
  std::string docker_source = "docker-ce";  // docker-ce (Docker's apt repo) | distribution (docker.io)
  std::string docker_version = "5:27.5.1-1~ubuntu.24.04~noble";  // pinned; "" = candidate of the source
  std::map<std::string, std::string> images;                     // name -> pinned reference (never :latest)
  std::string image_bundle_dir;                                  // air-gap: folder of `docker save` archives
  std::string preflight_dns_name = "archive.ubuntu.com";         // preflight: must resolve on every host
  int preflight_min_free_root_gb = 5;                            // preflight: free space on / at least
  // Where each host's run lock lives; `{host}` becomes the hostname. Only fleets whose "hosts" share one /run
  // (the real-sshd test fleet on 127.0.1.x) need a per-host path; real servers keep the default.
  std::string host_lock = "/run/kbz-install.lock";
  std::vector<VolumeSetting> volumes = default_volumes();
  bool lab = false;  // the local lab: checks marked `lab:` are reported "non testé dans le lab", never run
  std::map<std::string, std::string> raw;  // flattened key -> value, for templates (settings.x.y)
  std::string path;                        // where it was read from, "" = defaults
};

// `declared` are the modules' settings (every module the binary or --modules-dir has): their keys are
// accepted and their defaults fill Settings::raw.
Result<Settings> parse_settings(const std::string& yaml_text, const std::string& path,
                                const std::vector<SettingSpec>& declared = {});

// --config given on the command line must exist; the default kbz.yaml may be absent (= defaults).
enum class IfMissing { UseDefaults, Fail };
Result<Settings> load_settings(const std::string& path, IfMissing if_missing = IfMissing::UseDefaults,
                               const std::vector<SettingSpec>& declared = {});

}  // namespace kbz
