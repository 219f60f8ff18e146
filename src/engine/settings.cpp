// kbz.yaml -> Settings. Strict on purpose: an unknown or misspelt key is an error (a typo must not silently
// fall back to a default on 50 servers), and every problem is reported at once as FILE:LINE:COL: message.
// Defaults live in the Settings struct (include/kbz/engine/settings.hpp) and are documented in
// docs/SETTINGS.md; keep the three in step.
#include "kbz/engine/settings.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include "kbz/core/yaml_reader.hpp"

namespace kbz {
namespace {

// ---- syntax checks ------------------------------------------------------------------------------------

// IPv4 or IPv6 address bytes, or nullopt. inet_pton rejects "010.0.0.1"-style octets.
std::optional<std::vector<unsigned char>> parse_ip(const std::string& text, bool allow_v6) {
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, text.c_str(), buf.data()) == 1)
    return std::vector<unsigned char>(buf.begin(), buf.begin() + 4);
  if (allow_v6 && inet_pton(AF_INET6, text.c_str(), buf.data()) == 1) {
    return std::vector<unsigned char>(buf.begin(), buf.end());
  }
  return std::nullopt;
}

// "" when `text` is a CIDR (address/prefix, no host bits set), else why not.
std::string cidr_problem(const std::string& text, bool allow_v6) {
  const auto slash = text.find('/');
  if (slash == std::string::npos)
    return "'" + text + "' is not a CIDR (expected ADDRESS/PREFIX, e.g. 10.0.0.0/16)";
  const auto bytes = parse_ip(text.substr(0, slash), allow_v6);
  if (!bytes) return "'" + text + "' is not a CIDR: '" + text.substr(0, slash) + "' is not an IP address";
  const std::string prefix_text = text.substr(slash + 1);
  const int max = static_cast<int>(bytes->size() * 8);
  int prefix = -1;
  if (!prefix_text.empty() && prefix_text.size() <= 3 &&
      std::all_of(prefix_text.begin(), prefix_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    prefix = std::stoi(prefix_text);
  }
  if (prefix < 0 || prefix > max) {
    return "'" + text + "' is not a CIDR: prefix must be 0.." + std::to_string(max);
  }
  for (int bit = prefix; bit < max; ++bit) {
    if ((*bytes)[bit / 8] & (0x80 >> (bit % 8))) {
      // 10.0.0.5/16 is a typo for either a network or one host: refuse rather than guess which.
      return "'" + text + "' has host bits set after /" + prefix_text +
             " (a network starts at its first address)";
    }
  }
  return "";
}

bool is_debian_version(const std::string& v) {
  // Goes into `apt-get install docker-ce=VERSION`: only the characters Debian versions use, nothing a shell
  // would interpret.
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '+' || c == '~' || c == ':' || c == '-';
  });
}

bool is_timezone(const std::string& tz) {
  if (tz.empty() || tz.front() == '/' || tz.find("..") != std::string::npos) return false;
  return std::all_of(tz.begin(), tz.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' ||
           c == '_' || c == '+' || c == '-';
  });
}

bool is_image_name(const std::string& n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_' || c == '-';
  });
}

// "" when `ref` is pinned: NAME:TAG (tag not "latest") or NAME@sha256:<64 hex> (optionally with a tag).
std::string image_ref_problem(const std::string& ref) {
  const bool chars_ok = !ref.empty() && std::all_of(ref.begin(), ref.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '_' || c == '-' || c == '/' || c == ':' || c == '@';
  });
  if (!chars_ok) return "'" + ref + "' is not an image reference";
  std::string name = ref;
  if (const auto at = ref.find('@'); at != std::string::npos) {
    const std::string digest = ref.substr(at + 1);
    const bool hex = digest.size() == 7 + 64 && digest.starts_with("sha256:") &&
                     std::all_of(digest.begin() + 7, digest.end(),
                                 [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (!hex) return "'" + ref + "' has a malformed digest (expected @sha256:<64 hex digits>)";
    return "";  // a digest pins the image whatever the tag says
  }
  const auto slash = name.rfind('/');
  const auto colon = name.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    return "'" + ref + "' is not pinned: add a version tag (name:1.2.3) or a digest (name@sha256:...)";
  }
  const std::string tag = name.substr(colon + 1);
  if (tag.empty()) return "'" + ref + "' has an empty tag";
  std::string lower = tag;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
  if (lower == "latest")
    return "'" + ref + "' uses ':latest', which changes under you: pin a version tag or a digest";
  return "";
}

using yaml::Entry;
using yaml::Reader;

std::string join(const std::vector<std::string>& items, const char* sep) {
  return fmt::format("{}", fmt::join(items, sep));
}

void read_network(Reader& r, const YAML::Node& node, Settings& s) {
  for (const auto& e : r.entries(node, {"network.", ""}, {"private_cidr", "admin_cidrs"})) {
    if (e.name == "private_cidr") {
      if (auto v = r.scalar(e, "network.private_cidr")) {
        if (auto why = cidr_problem(*v, false); !why.empty())
          r.error(e.mark(), why);
        else
          s.private_cidr = *v;
      }
    } else if (auto items = r.list(e, "network.admin_cidrs")) {
      s.admin_cidrs.clear();
      for (const auto& [item, mark] : *items) {
        // A bare address means that one host: the usual case (install-01's public IP).
        if (item.find('/') == std::string::npos) {
          if (!parse_ip(item, true))
            r.error(mark, "'" + item + "' is not an IP address or a CIDR");
          else
            s.admin_cidrs.push_back(item + (item.find(':') == std::string::npos ? "/32" : "/128"));
          continue;
        }
        const std::string& cidr = item;
        if (auto why = cidr_problem(cidr, true); !why.empty())
          r.error(mark, why);
        else
          s.admin_cidrs.push_back(cidr);
      }
    }
  }
}

void read_dns(Reader& r, const YAML::Node& node, Settings& s) {
  for (const auto& e : r.entries(node, {"dns.", ""}, {"servers"})) {
    if (auto items = r.list(e, "dns.servers")) {
      if (items->empty()) {
        r.error(e.mark(), "'dns.servers' needs at least one server");
        continue;
      }
      s.dns_servers.clear();
      for (const auto& [item, mark] : *items) {
        if (!parse_ip(item, true))
          r.error(mark, "'" + item + "' is not an IP address");
        else
          s.dns_servers.push_back(item);
      }
    }
  }
}

void read_docker(Reader& r, const YAML::Node& node, Settings& s) {
  for (const auto& e : r.entries(node, {"docker.", ""}, {"source", "version"})) {
    const auto v = r.scalar(e, "docker." + e.name);
    if (!v) continue;
    if (e.name == "source") {
      if (*v != "docker-ce" && *v != "distribution") {
        r.error(e.mark(), "'docker.source' is '" + *v + "', expected docker-ce or distribution");
      } else {
        s.docker_source = *v;
      }
    } else if (!is_debian_version(*v)) {
      r.error(e.mark(), "'docker.version' '" + *v + "' is not a Debian package version");
    } else {
      s.docker_version = *v;
    }
  }
}

void read_images(Reader& r, const YAML::Node& node, Settings& s) {
  for (const auto& e : r.entries(node, {"images.", ""}, {})) {
    if (!is_image_name(e.name)) {
      r.error(e.key_mark, "image name '" + e.name + "' must use a-z, 0-9, '-' and '_' (it becomes images." +
                              e.name + ")");
      continue;
    }
    const auto ref = r.scalar(e, "images." + e.name);
    if (!ref) continue;
    if (auto why = image_ref_problem(*ref); !why.empty())
      r.error(e.mark(), "images." + e.name + ": " + why);
    else
      s.images[e.name] = *ref;
  }
}

void read_preflight(Reader& r, const YAML::Node& node, Settings& s) {
  for (const auto& e : r.entries(node, {"preflight.", ""}, {"dns_name", "min_free_root_gb"})) {
    const auto v = r.scalar(e, "preflight." + e.name);
    if (!v) continue;
    if (e.name == "dns_name") {
      const bool name_ok = !v->empty() && std::all_of(v->begin(), v->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '-';
      });
      if (!name_ok)
        r.error(e.mark(), "'preflight.dns_name' '" + *v + "' is not a host name");
      else
        s.preflight_dns_name = *v;
    } else {
      int n = -1;
      const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
      if (ec != std::errc() || p != v->data() + v->size() || n < 0 || n > 100000)
        r.error(e.mark(), "'preflight.min_free_root_gb' must be a number of GB (0..100000)");
      else
        s.preflight_min_free_root_gb = n;
    }
  }
}

// A path kbz-install writes into /etc/fstab and shell lines: absolute, plain characters, no "..".
bool is_plain_path(const std::string& p) {
  return p.size() > 1 && p.front() == '/' && p.back() != '/' && p.find("..") == std::string::npos &&
         p.find("//") == std::string::npos && std::all_of(p.begin(), p.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' ||
                  c == '_' || c == '.' || c == '-' || c == ':' || c == '@' || c == '+';
         });
}

// "kbz-<service>" for /opt/keybuzz/<service>/..., else "kbz-<last folder>"; cut to XFS's 12 characters.
std::string default_label(const std::string& mount) {
  std::string word;
  if (mount.starts_with("/opt/keybuzz/"))
    word = mount.substr(13, mount.find('/', 13) - 13);
  else
    word = mount.substr(mount.rfind('/') + 1);
  std::string label = "kbz-";
  for (char c : word)
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') label += c;
  return label.substr(0, 12);
}

void read_volumes(Reader& r, const Entry& e, Settings& s) {
  s.volumes.clear();  // kbz.yaml's table replaces the default one
  if (e.value.IsNull()) return;
  if (!e.value.IsSequence()) {
    r.error(e.mark(), "'volumes' must be a list of {hosts, mount, min_gb, ...} (or [] for none)");
    return;
  }
  static const std::vector<std::string> keys = {"hosts",  "mount", "fs",      "min_gb",
                                                "device", "label", "required"};
  for (size_t i = 0; i < e.value.size(); ++i) {
    const std::string at = fmt::format("volumes[{}]", i);
    const auto f = r.fields(e.value[i], {at + ".", "", at}, keys);
    VolumeSetting v;
    v.hosts = f.required("hosts");
    v.mount = f.required("mount");
    if (!v.mount.empty() && !is_plain_path(v.mount))
      f.error("mount",
              at + ".mount '" + v.mount + "' must be an absolute path (letters, digits, / _ . - : @ +)");
    v.fs = f.str("fs", "xfs");
    if (v.fs != "xfs") f.error("fs", at + ".fs is '" + v.fs + "': only xfs is supported");
    v.min_gb = f.integer("min_gb", 0, 0, 1000000);
    v.device = f.str("device");
    if (!v.device.empty() && (!v.device.starts_with("/dev/") || !is_plain_path(v.device)))
      f.error("device", at + ".device '" + v.device + "' must be a path under /dev/");
    v.label = f.has("label") ? f.str("label") : default_label(v.mount);
    const bool label_ok =
        !v.label.empty() && v.label.size() <= 12 && std::all_of(v.label.begin(), v.label.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        });
    if (!label_ok)
      f.error("label", at + ".label '" + v.label + "' must be 1-12 characters a-z 0-9 - _ (an XFS label)");
    v.required = f.boolean("required", false);
    s.volumes.push_back(std::move(v));
  }
}

void put_list(std::map<std::string, std::string>& raw, const std::string& key,
              const std::vector<std::string>& items) {
  raw[key] = join(items, " ");
  for (size_t i = 0; i < items.size(); ++i) raw[key + "." + std::to_string(i)] = items[i];
}

void flatten(Settings& s) {
  auto& raw = s.raw;
  raw["network.private_cidr"] = s.private_cidr;
  put_list(raw, "network.admin_cidrs", s.admin_cidrs);
  put_list(raw, "dns.servers", s.dns_servers);
  raw["timezone"] = s.timezone;
  raw["docker.source"] = s.docker_source;
  raw["docker.version"] = s.docker_version;
  for (const auto& [name, ref] : s.images) raw["images." + name] = ref;
  raw["image_bundle_dir"] = s.image_bundle_dir;
  raw["lab"] = s.lab ? "true" : "false";
  raw["host_lock"] = s.host_lock;
  raw["preflight.dns_name"] = s.preflight_dns_name;
  raw["preflight.min_free_root_gb"] = std::to_string(s.preflight_min_free_root_gb);
  // The volume step reads its host's entry from here (volume_for_host, kbz/engine/steps/volume.hpp).
  raw["volumes.count"] = std::to_string(s.volumes.size());
  for (size_t i = 0; i < s.volumes.size(); ++i) {
    const auto& v = s.volumes[i];
    const std::string k = fmt::format("volumes.{}.", i);
    raw[k + "hosts"] = v.hosts;
    raw[k + "mount"] = v.mount;
    raw[k + "fs"] = v.fs;
    raw[k + "min_gb"] = std::to_string(v.min_gb);
    raw[k + "device"] = v.device;
    raw[k + "label"] = v.label;
    raw[k + "required"] = v.required ? "true" : "false";
  }
}

// ---- settings declared by modules -------------------------------------------------------------------------

const std::vector<std::string> kCoreKeys = {"network",          "dns", "timezone",  "docker",    "images",
                                            "image_bundle_dir", "lab", "preflight", "host_lock", "volumes"};

// "" when `value` fits the spec, else why not.
std::string value_problem(const SettingSpec& spec, const std::string& value) {
  switch (spec.type) {
    case SettingType::Integer: {
      long long n = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size()) return "'" + value + "' is not an integer";
      if ((spec.min != 0 || spec.max != 0) && (n < spec.min || n > spec.max))
        return fmt::format("{} is outside {}..{}", n, spec.min, spec.max);
      return "";
    }
    case SettingType::Boolean:
      return value == "true" || value == "false" ? "" : "'" + value + "' is not true or false";
    case SettingType::Cidr:
      return cidr_problem(value, false);
    case SettingType::Ip:
      return parse_ip(value, false) ? "" : "'" + value + "' is not an IPv4 address";
    case SettingType::String:
    case SettingType::List:
      if (!spec.pattern.empty() && !std::regex_match(value, std::regex(spec.pattern)))
        return "'" + value + "' does not match " + spec.pattern;
      return "";
  }
  return "";
}

// The declared keys under `prefix` ("" or "postgres."), as the next word of each: the map's known keys.
std::vector<std::string> next_words(const std::vector<SettingSpec>& declared, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& d : declared) {
    if (!d.key.starts_with(prefix)) continue;
    const std::string rest = d.key.substr(prefix.size());
    const std::string word = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), word) == out.end()) out.push_back(word);
  }
  return out;
}

// A map under a module prefix: each entry is a declared key, or a map leading to more.
void read_declared(Reader& r, const YAML::Node& node, const std::string& prefix,
                   const std::vector<SettingSpec>& declared, Settings& s) {
  for (const auto& e : r.entries(node, {prefix, ""}, next_words(declared, prefix))) {
    const std::string key = prefix + e.name;
    const auto spec =
        std::find_if(declared.begin(), declared.end(), [&](const SettingSpec& d) { return d.key == key; });
    if (spec == declared.end()) {
      read_declared(r, e.value, key + ".", declared, s);
      continue;
    }
    std::vector<std::string> values;
    if (spec->type == SettingType::List) {
      auto items = r.list(e, key);
      if (!items) continue;
      bool good = true;
      for (const auto& [item, mark] : *items) {
        if (auto why = value_problem(*spec, item); !why.empty()) {
          r.error(mark, key + ": " + why);
          good = false;
        }
      }
      if (!good) continue;
      for (const auto& [item, _] : *items) values.push_back(item);
      put_list(s.raw, key, values);
    } else if (auto v = r.scalar(e, key)) {
      if (auto why = value_problem(*spec, *v); !why.empty())
        r.error(e.mark(), key + ": " + why);
      else
        s.raw[key] = *v;
    }
  }
}

void put_defaults(const std::vector<SettingSpec>& declared, Settings& s) {
  for (const auto& d : declared) {
    if (d.type == SettingType::List)
      put_list(s.raw, d.key, d.default_value);
    else
      s.raw[d.key] = d.default_value.empty() ? std::string{} : d.default_value.front();
  }
}

}  // namespace

// The team's layout (keybuzz-v2-facts §2.4): Hetzner volumes, XFS, one per stateful server. Not required:
// a server without its volume keeps the data on / (said in plan and apply).
std::vector<VolumeSetting> default_volumes() {
  auto v = [](std::string hosts, std::string mount, int gb, std::string label) {
    VolumeSetting s;
    s.hosts = std::move(hosts);
    s.mount = std::move(mount);
    s.min_gb = gb;
    s.label = std::move(label);
    return s;
  };
  return {
      v("db-master-*", "/opt/keybuzz/postgres/data", 100, "kbz-postgres"),
      v("db-slave-*", "/opt/keybuzz/postgres/data", 50, "kbz-postgres"),
      v("redis-*", "/opt/keybuzz/redis/data", 20, "kbz-redis"),
      v("queue-*", "/opt/keybuzz/rabbitmq/data", 40, "kbz-rabbitmq"),
      v("minio-*", "/opt/keybuzz/minio/data", 100, "kbz-minio"),
      v("maria-*", "/opt/keybuzz/mariadb/data", 50, "kbz-mariadb"),
      v("proxysql-*", "/opt/keybuzz/proxysql/data", 10, "kbz-proxysql"),
      v("haproxy-*", "/opt/keybuzz/haproxy/data", 10, "kbz-haproxy"),
      v("k8s-worker-*", "/var/lib/containerd", 50, "kbz-k8s"),
  };
}

Result<Settings> parse_settings(const std::string& yaml_text, const std::string& path,
                                const std::vector<SettingSpec>& declared) {
  Settings s;
  s.path = path;
  Reader r(path);
  const YAML::Node root = r.load(yaml_text);
  if (!r.ok()) return fail(ErrorKind::Input, r.errors().front());

  std::vector<std::string> known = kCoreKeys;
  for (const auto& w : next_words(declared, ""))
    if (std::find(known.begin(), known.end(), w) == known.end()) known.push_back(w);
  put_defaults(declared, s);
  for (const auto& e : r.entries(root, {"", ""}, known)) {
    if (e.name == "network") {
      read_network(r, e.value, s);
    } else if (e.name == "dns") {
      read_dns(r, e.value, s);
    } else if (e.name == "docker") {
      read_docker(r, e.value, s);
    } else if (e.name == "images") {
      read_images(r, e.value, s);
    } else if (e.name == "timezone") {
      if (auto v = r.scalar(e, "timezone")) {
        if (!is_timezone(*v))
          r.error(e.mark(), "'" + *v + "' is not a time zone name (e.g. Europe/Paris)");
        else
          s.timezone = *v;
      }
    } else if (e.name == "image_bundle_dir") {
      if (auto v = r.scalar(e, "image_bundle_dir")) s.image_bundle_dir = *v;
    } else if (e.name == "host_lock") {
      if (auto v = r.scalar(e, "host_lock")) {
        // It goes into a root shell script: an absolute path of plain characters only.
        const bool plain = std::all_of(v->begin(), v->end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
                 c == '-' || c == '{' || c == '}';
        });
        if (!v->starts_with("/") || !plain || v->find("..") != std::string::npos)
          r.error(e.mark(),
                  "'host_lock' '" + *v + "' must be an absolute path of letters, digits, / . _ - and {host}");
        else
          s.host_lock = *v;
      }
    } else if (e.name == "preflight") {
      read_preflight(r, e.value, s);
    } else if (e.name == "volumes") {
      read_volumes(r, e, s);
    } else if (e.name == "lab") {
      if (auto v = r.scalar(e, "lab")) {
        if (*v != "true" && *v != "false")
          r.error(e.mark(), "'lab' is '" + *v + "', expected true or false");
        else
          s.lab = *v == "true";
      }
    } else {
      read_declared(r, e.value, e.name + ".", declared, s);
    }
  }
  if (!r.ok()) return fail(ErrorKind::Input, r.joined_errors());
  flatten(s);
  return s;
}

Result<Settings> load_settings(const std::string& path, IfMissing if_missing,
                               const std::vector<SettingSpec>& declared) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (if_missing == IfMissing::Fail) {
      return fail(ErrorKind::Input, path + ": cannot read the settings file: No such file or directory");
    }
    auto s = parse_settings("", "", declared);
    if (s) s->path.clear();  // "": the defaults were used
    return s;
  }
  if (std::filesystem::is_directory(path, ec)) {
    return fail(ErrorKind::Input, path + ": cannot read the settings file: it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::Input, path + ": cannot read the settings file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_settings(text.str(), path, declared);
}

const char* setting_type_name(SettingType t) {
  switch (t) {
    case SettingType::String:
      return "texte";
    case SettingType::Integer:
      return "entier";
    case SettingType::Boolean:
      return "booléen";
    case SettingType::Cidr:
      return "CIDR";
    case SettingType::Ip:
      return "adresse IPv4";
    case SettingType::List:
      return "liste";
  }
  return "";
}

}  // namespace kbz
