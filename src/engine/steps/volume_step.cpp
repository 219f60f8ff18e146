// kind: volume — the host's data disk (kbz.yaml `volumes:`, the team's layout by default): a blank disk is
// formatted XFS with kbz-install's label, written to /etc/fstab by UUID with nofail and mounted; a disk that
// already holds anything (filesystem, partition table, any signature blkid -p or wipefs -n sees) is never
// touched: used as it is when it is XFS with our label, refused otherwise. No disk attached: refused when the
// entry says required, else the data stays on / (said in plan and apply).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "kbz/core/text.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/engine/steps/packages.hpp"
#include "kbz/engine/steps/volume.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

struct VolumeSpec : StepSpec {};

// What the probe printed: key -> every value, in order.
using Probe = std::map<std::string, std::vector<std::string>>;

Probe parse_probe(const std::string& out) {
  Probe p;
  for (const auto& l : lines_of(out)) {
    const auto eq = l.find('=');
    if (eq == std::string::npos) continue;
    p[l.substr(0, eq)].push_back(l.substr(eq + 1));
  }
  return p;
}

std::string one(const Probe& p, const std::string& key) {
  const auto it = p.find(key);
  return it == p.end() || it->second.empty() ? std::string{} : it->second.front();
}

std::string gib(long long bytes) {
  return fmt::format("{:.1f} GB", static_cast<double>(bytes) / (1LL << 30));
}

std::string fstab_line(const std::string& uuid, const VolumeSetting& v) {
  return fmt::format("UUID={} {} xfs defaults,noatime,nofail 0 2", uuid, v.mount);
}

// Fields of an fstab line joined by one space, to compare lines whatever their spacing.
std::string normalized(const std::string& line) {
  std::string out;
  for (const auto f : split(line, ' '))
    for (const auto g : split(f, '\t'))
      if (!g.empty()) out += (out.empty() ? "" : " ") + std::string(g);
  return out;
}

// What a disk holds, for the refusal message.
std::string found_on(const Probe& p) {
  std::vector<std::string> what;
  for (const char* k : {"TYPE", "LABEL", "PTTYPE", "UUID"})
    if (auto v = one(p, std::string("blkid.") + k); !v.empty()) what.push_back(fmt::format("{}={}", k, v));
  if (const auto it = p.find("sig"); it != p.end())
    for (const auto& s : it->second) what.push_back("signature " + std::string(trim(s)));
  if (auto n = one(p, "parts"); !n.empty() && n != "0") what.push_back(n + " partition(s)");
  std::string out;
  for (const auto& w : what) out += (out.empty() ? "" : ", ") + w;
  return out;
}

class VolumeKind final : public StepKind {
 public:
  std::string_view name() const override { return "volume"; }
  std::vector<std::string> keys() const override { return {}; }

  void parse(const yaml::Fields&, Step& step) const override { step.spec = std::make_shared<VolumeSpec>(); }

  Result<std::string> check(const Step&, const Module&, const TemplateContext& ctx) const override {
    const auto v = volume_for_host(ctx.settings, ctx.host);
    if (!v) return std::string("echo volume=none");
    return volume_probe_script(*v);
  }

  Result<StepDecision> decide(const Step&, const Module&, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    StepDecision d;
    const auto found = volume_for_host(ctx.settings, ctx.host);
    const std::string& host = ctx.host.hostname;
    if (!found) {
      d.message = "no data volume for this host in kbz.yaml volumes";
      return d;
    }
    const VolumeSetting& v = *found;
    const Probe p = parse_probe(c.output);
    auto refuse = [&](const std::string& why) {
      return fail(ErrorKind::Remote, fmt::format("{}: data volume for {}: {}", host, v.mount, why));
    };
    const std::string dev = one(p, "device"), real = one(p, "real");
    if (dev.empty()) {
      if (!one(p, "missing").empty())
        return refuse(fmt::format("device {} named in kbz.yaml volumes does not exist", one(p, "named")));
      const auto cands = p.contains("candidate") ? p.at("candidate") : std::vector<std::string>{};
      if (cands.size() > 1) {
        std::string list;
        for (const auto& x : cands) list += (list.empty() ? "" : ", ") + x;
        return refuse(fmt::format(
            "{} Hetzner volumes attached ({}): name the one to use with device: in kbz.yaml volumes",
            cands.size(), list));
      }
      if (v.required)
        return refuse(
            fmt::format("no disk attached ({} absent) and kbz.yaml volumes requires one of {} GB "
                        "at least: refused",
                        kHetznerVolumeGlob, v.min_gb));
      d.message = fmt::format("no data volume attached ({} absent): data stays on / under {} (not required)",
                              kHetznerVolumeGlob, v.mount);
      return d;
    }
    const std::string what = real.empty() || real == dev ? dev : fmt::format("{} ({})", dev, real);
    if (one(p, "block") != "yes") return refuse(fmt::format("{} is not a block device", what));
    long long size = -1;
    try {
      size = std::stoll(one(p, "size"));
    } catch (...) {
      return refuse(fmt::format("cannot read the size of {}: {}", what, one(p, "size")));
    }
    if (size < static_cast<long long>(v.min_gb) * (1LL << 30))
      return refuse(
          fmt::format("{} is {}, smaller than the {} GB kbz.yaml volumes asks: refused, left untouched", what,
                      gib(size), v.min_gb));
    const std::string blkid_rc = one(p, "blkid_rc"), wipefs_rc = one(p, "wipefs_rc");
    if ((blkid_rc != "0" && blkid_rc != "2") || wipefs_rc != "0")
      return refuse(fmt::format("cannot probe {} (blkid -p exit {}, wipefs -n exit {}): {}; left untouched",
                                what, blkid_rc, wipefs_rc, one(p, "probe_error")));
    const bool blank = blkid_rc == "2" && !p.contains("sig") && one(p, "parts") == "0";
    bool only_xfs_sigs = true;
    if (p.contains("sig"))
      for (const auto& s : p.at("sig")) only_xfs_sigs &= std::string(trim(s)).starts_with("xfs ");
    const bool ours = blkid_rc == "0" && one(p, "blkid.TYPE") == "xfs" && one(p, "blkid.LABEL") == v.label &&
                      one(p, "blkid.PTTYPE").empty() && one(p, "parts") == "0" && only_xfs_sigs;
    if (!blank && !ours)
      return refuse(fmt::format(
          "{} is not blank ({}): kbz-install never formats a disk that holds anything and only uses as it is "
          "an XFS labelled {}; left untouched (check what it is; wipe it yourself only if it is meant for "
          "this)",
          what, found_on(p), v.label));

    // Where it goes: nothing else may be mounted there, fstab must not say otherwise, and files already on
    // / under the mount point would be hidden by the mount.
    const auto mounted = p.contains("mounted") ? p.at("mounted") : std::vector<std::string>{};
    const bool mounted_here = std::find(mounted.begin(), mounted.end(), v.mount) != mounted.end();
    if (!mounted.empty() && !mounted_here)
      return refuse(fmt::format("{} is mounted at {}, not at {}", what, mounted.front(), v.mount));
    if (!mounted_here && !one(p, "at_mount").empty())
      return refuse(fmt::format("{} already has {} mounted", v.mount, one(p, "at_mount")));
    const std::string want = ours ? fstab_line(one(p, "blkid.UUID"), v) : std::string{};
    bool fstab_ok = false;
    if (p.contains("fstab"))
      for (const auto& l : p.at("fstab")) {
        if (ours && normalized(l) == want) {
          fstab_ok = true;
          continue;
        }
        return refuse(
            fmt::format("/etc/fstab already has a line for {}{}: '{}' (expected '{}'); fix it by hand",
                        v.mount, ours ? " or its UUID" : "", l, ours ? want : fstab_line("<new UUID>", v)));
      }
    if (!mounted_here && !one(p, "files").empty())
      return refuse(
          fmt::format("{} already holds files on / ({}): mounting the volume would hide them; move "
                      "them away first",
                      v.mount, trim(one(p, "files"))));

    const std::string q_dev = shell_quote(real.empty() ? dev : real), q_mount = shell_quote(v.mount);
    const std::string mount_cmd = fmt::format(
        "mkdir -p {0}\n"
        "command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload || true\n"
        "mount {0}\n"
        "findmnt -n -o SOURCE,FSTYPE,OPTIONS --mountpoint {0}\n",
        q_mount);
    const std::string fstab_append = fmt::format(
        "printf '%s\\n' \"UUID=$kbz_uuid {} xfs defaults,noatime,nofail 0 2\" >> /etc/fstab\n", v.mount);
    if (blank) {
      d.change = true;
      d.message = fmt::format("format {} ({}, blank) as XFS label {}, fstab by UUID (nofail), mount at {}",
                              what, gib(size), v.label, v.mount);
      d.apply.command = fmt::format(
          "set -e\n"
          "kbz_dev={0}\n"
          "# the last look right before formatting (mkfs.xfs without -f refuses a signature too)\n"
          "if [ -n \"$(blkid -p -o export \"$kbz_dev\")\" ] || [ -n \"$(wipefs --no-act --noheadings "
          "\"$kbz_dev\")\" ]; then\n"
          "  echo \"refused: $kbz_dev is no longer blank\"; exit 1\n"
          "fi\n"
          "{1}"
          "mkfs.xfs -q -L {2} \"$kbz_dev\"\n"
          "kbz_uuid=$(blkid -p -s UUID -o value \"$kbz_dev\")\n"
          "[ -n \"$kbz_uuid\" ] || {{ echo \"no UUID on $kbz_dev after mkfs.xfs\"; exit 1; }}\n"
          "{3}{4}",
          q_dev, one(p, "mkfs") == "yes" ? "" : "( " + apt_install_command({"xfsprogs"}) + ")\n",
          shell_quote(v.label), fstab_append, mount_cmd);
      return d;
    }
    if (fstab_ok && mounted_here) return d;  // in place: nothing to do
    d.change = true;
    d.message = fmt::format("{}{}{} (XFS {}, kept as it is)", fstab_ok ? "" : "fstab line by UUID (nofail)",
                            fstab_ok || mounted_here ? "" : ", ",
                            mounted_here ? "" : "mount " + what + " at " + v.mount, v.label);
    d.apply.command = fmt::format("set -e\nkbz_uuid={}\n{}{}", shell_quote(one(p, "blkid.UUID")),
                                  fstab_ok ? "" : fstab_append, mounted_here ? std::string{} : mount_cmd);
    return d;
  }

  std::string describe_fr(const Step&, const Module&) const override {
    return "disque de données de l'hôte (`volumes:` de kbz.yaml) : formaté XFS seulement s'il est vierge, "
           "monté par UUID (`nofail`) ; un disque qui contient quoi que ce soit est refusé et laissé intact";
  }
};

}  // namespace

std::optional<VolumeSetting> volume_for_host(const std::map<std::string, std::string>& settings,
                                             const Host& host) {
  auto get = [&](const std::string& k) {
    const auto it = settings.find(k);
    return it == settings.end() ? std::string{} : it->second;
  };
  int count = 0;
  try {
    count = std::stoi(get("volumes.count"));
  } catch (...) {
    return std::nullopt;
  }
  for (int i = 0; i < count; ++i) {
    const std::string k = fmt::format("volumes.{}.", i);
    if (get(k + "hosts").empty() || !selector_matches(get(k + "hosts"), host)) continue;
    VolumeSetting v;
    v.hosts = get(k + "hosts");
    v.mount = get(k + "mount");
    v.fs = get(k + "fs");
    v.min_gb = std::atoi(get(k + "min_gb").c_str());
    v.device = get(k + "device");
    v.label = get(k + "label");
    v.required = get(k + "required") == "true";
    return v;
  }
  return std::nullopt;
}

Result<void> check_one_volume_per_host(const std::vector<VolumeSetting>& volumes,
                                       const std::vector<Host>& hosts, const std::string& settings_path) {
  std::vector<std::string> errors;
  for (const auto& h : hosts) {
    std::vector<size_t> hit;
    for (size_t i = 0; i < volumes.size(); ++i)
      if (!volumes[i].hosts.empty() && selector_matches(volumes[i].hosts, h)) hit.push_back(i);
    if (hit.size() > 1)
      errors.push_back(
          fmt::format("{}: volumes[{}] ({}) and volumes[{}] ({}) both match host {}: one data volume "
                      "per host",
                      settings_path.empty() ? "kbz.yaml defaults" : settings_path, hit[0],
                      volumes[hit[0]].hosts, hit[1], volumes[hit[1]].hosts, h.hostname));
  }
  if (errors.empty()) return {};
  return fail(ErrorKind::Input, fmt::format("{}", fmt::join(errors, "\n")));
}

std::string volume_probe_script(const VolumeSetting& v) {
  return fmt::format(
      "kbz_named={0}; kbz_mount={1}; kbz_dev=''; kbz_uuid=''\n"
      "if [ -n \"$kbz_named\" ]; then\n"
      "  echo \"named=$kbz_named\"\n"
      "  if [ -e \"$kbz_named\" ]; then kbz_dev=$kbz_named; else echo missing=1; fi\n"
      "else\n"
      "  set --\n"
      "  for c in {2}; do [ -e \"$c\" ] && set -- \"$@\" \"$c\" && echo \"candidate=$c\"; done\n"
      "  [ $# -eq 1 ] && kbz_dev=$1\n"
      "fi\n"
      "if [ -n \"$kbz_dev\" ]; then\n"
      "  kbz_real=$(readlink -f \"$kbz_dev\"); echo \"device=$kbz_dev\"; echo \"real=$kbz_real\"\n"
      "  if [ -b \"$kbz_real\" ]; then\n"
      "    echo block=yes; echo \"size=$(blockdev --getsize64 \"$kbz_real\" 2>&1)\"\n"
      "    kbz_b=$(blkid -p -o export \"$kbz_real\" 2>&1); kbz_rc=$?; echo \"blkid_rc=$kbz_rc\"\n"
      "    case $kbz_rc in 0) printf '%s\\n' \"$kbz_b\" | sed -n 's/^\\([A-Z_]*=\\)/blkid.\\1/p';;\n"
      "      2) ;; *) printf '%s\\n' \"$kbz_b\" | head -n 2 | sed 's/^/probe_error=blkid: /';; esac\n"
      "    kbz_uuid=$(printf '%s\\n' \"$kbz_b\" | sed -n 's/^UUID=//p')\n"
      "    kbz_w=$(wipefs --no-act --noheadings --output TYPE,OFFSET \"$kbz_real\" 2>&1); kbz_rc=$?\n"
      "    echo \"wipefs_rc=$kbz_rc\"\n"
      "    if [ $kbz_rc -eq 0 ]; then printf '%s\\n' \"$kbz_w\" | sed '/^ *$/d; s/^/sig=/'\n"
      "    else printf '%s\\n' \"$kbz_w\" | head -n 2 | sed 's/^/probe_error=wipefs: /'; fi\n"
      "    echo \"parts=$(lsblk -n -r -o NAME \"$kbz_real\" 2>/dev/null | tail -n +2 | wc -l)\"\n"
      "    findmnt -n -r -o TARGET --source \"$kbz_real\" | sed 's/^/mounted=/'\n"
      "  else echo block=no; fi\n"
      "fi\n"
      "findmnt -n -r -o SOURCE,FSTYPE --mountpoint \"$kbz_mount\" | sed 's/^/at_mount=/'\n"
      "[ -f /etc/fstab ] && awk -v m=\"$kbz_mount\" -v u=\"UUID=${{kbz_uuid:-none}}\" "
      "'$1 !~ /^#/ && ($2 == m || $1 == u) {{print \"fstab=\" $0}}' /etc/fstab\n"
      "if [ -d \"$kbz_mount\" ] && ! mountpoint -q \"$kbz_mount\"; then\n"
      "  echo \"files=$(ls -A \"$kbz_mount\" | head -n 3 | tr '\\n' ' ')\"\n"
      "fi\n"
      "command -v mkfs.xfs >/dev/null 2>&1 && echo mkfs=yes || echo mkfs=no\n",
      shell_quote(v.device), shell_quote(v.mount), kHetznerVolumeGlob);
}

std::string volume_preflight_script(const VolumeSetting& v) {
  return fmt::format(
      "kbz_p=$( {0}\n)\n"
      "kbz_get() {{ printf '%s\\n' \"$kbz_p\" | sed -n \"s/^$1=//p\" | head -n 1; }}\n"
      "kbz_d=$(kbz_get device); kbz_n=$(printf '%s\\n' \"$kbz_p\" | grep -c '^candidate=')\n"
      "if [ -z \"$kbz_d\" ]; then\n"
      "  if [ -n \"$(kbz_get missing)\" ]; then echo \"fail data volume: $(kbz_get named) does not exist\"\n"
      "  elif [ \"$kbz_n\" -gt 1 ]; then echo \"fail data volume: $kbz_n Hetzner volumes attached, name one "
      "with device:\"\n"
      "  elif [ {1} = true ]; then echo 'fail no data volume attached for {2} (required)'\n"
      "  else echo 'warn no data volume attached: data stays on / under {2}'; fi\n"
      "  exit 0\n"
      "fi\n"
      "kbz_s=$(kbz_get size); case $kbz_s in ''|*[!0-9]*) echo \"fail data volume $kbz_d: size unknown\"; "
      "exit 0;; esac\n"
      "kbz_g=$((kbz_s / 1073741824))\n"
      "if [ \"$kbz_s\" -lt $(({3} * 1073741824)) ]; then echo \"fail data volume $kbz_d is $kbz_g GB, below "
      "{3} GB\"\n"
      "else echo \"ok data volume attached: $kbz_d, $kbz_g GB, for {2}\"; fi",
      volume_probe_script(v), v.required ? "true" : "false", v.mount, v.min_gb);
}

const StepKind& volume_step_kind() {
  static const VolumeKind kind;
  return kind;
}

}  // namespace kbz
