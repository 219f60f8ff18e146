// kind: volume — the host's data disk as kbz.yaml `volumes:` describes it (Hetzner volume, XFS, mounted by
// UUID). Shared with preflight ("data volume attached").
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {

// Where Hetzner attaches volumes; the one match is the disk when kbz.yaml names no device.
inline constexpr const char* kHetznerVolumeGlob = "/dev/disk/by-id/scsi-0HC_Volume_*";

// The host's entry of kbz.yaml volumes (flattened in the settings map templates see), or nullopt.
std::optional<VolumeSetting> volume_for_host(const std::map<std::string, std::string>& settings,
                                             const Host& host);
// The step prepares one data disk per host: two kbz.yaml volumes entries matching one inventory host are an
// input error (exit 2) naming both entries and the host, found before any host is touched.
Result<void> check_one_volume_per_host(const std::vector<VolumeSetting>& volumes,
                                       const std::vector<Host>& hosts, const std::string& settings_path);
// Read-only: finds the disk and prints what is on it as key=value lines (blkid -p, wipefs -n, lsblk,
// findmnt, /etc/fstab); never writes anything.
std::string volume_probe_script(const VolumeSetting& v);
// Preflight: the probe, then one verdict line (ok / warn / fail) on the disk's presence and size.
std::string volume_preflight_script(const VolumeSetting& v);

}  // namespace kbz
