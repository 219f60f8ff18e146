// kind: volume — the host's data disk as kbz.yaml `volumes:` describes it (Hetzner volume, XFS, mounted by
// UUID). Shared with preflight ("data volume attached").
#pragma once
#include <map>
#include <optional>
#include <string>

#include "kbz/engine/settings.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {

// Where Hetzner attaches volumes; the one match is the disk when kbz.yaml names no device.
inline constexpr const char* kHetznerVolumeGlob = "/dev/disk/by-id/scsi-0HC_Volume_*";

// The host's entry of kbz.yaml volumes (flattened in the settings map templates see), or nullopt.
std::optional<VolumeSetting> volume_for_host(const std::map<std::string, std::string>& settings,
                                             const Host& host);
// Read-only: finds the disk and prints what is on it as key=value lines (blkid -p, wipefs -n, lsblk,
// findmnt, /etc/fstab); never writes anything.
std::string volume_probe_script(const VolumeSetting& v);
// Preflight: the probe, then one verdict line (ok / warn / fail) on the disk's presence and size.
std::string volume_preflight_script(const VolumeSetting& v);

}  // namespace kbz
