#include "kbz/engine/settings.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "kbz/engine/steps/volume.hpp"

namespace kbz {
namespace {

std::string fixture(const std::string& name) { return std::string(KBZ_FIXTURES_DIR) + "/settings/" + name; }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The full message list of a file that must fail, with the fixture dir stripped for readability.
std::vector<std::string> errors_of(const std::string& name) {
  auto r = load_settings(fixture(name), IfMissing::Fail);
  EXPECT_FALSE(r.has_value()) << name;
  if (r) return {};
  EXPECT_EQ(r.error().kind, ErrorKind::Input);
  auto out = lines(r.error().message);
  for (auto& l : out) {
    const auto dir = std::string(KBZ_FIXTURES_DIR) + "/settings/";
    if (l.starts_with(dir)) l.erase(0, dir.size());
  }
  return out;
}

TEST(Settings, DefaultsWhenTheDefaultFileIsMissing) {
  auto r = load_settings("/nonexistent/kbz.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->path, "");
  EXPECT_EQ(r->private_cidr, "10.0.0.0/16");
  EXPECT_TRUE(r->admin_cidrs.empty());
  EXPECT_EQ(r->dns_servers, (std::vector<std::string>{"1.1.1.1", "8.8.8.8"}));
  EXPECT_EQ(r->timezone, "Europe/Paris");
  EXPECT_EQ(r->docker_source, "docker-ce");
  EXPECT_EQ(r->docker_version, "5:27.5.1-1~ubuntu.24.04~noble");
  EXPECT_TRUE(r->images.empty());
  EXPECT_EQ(r->image_bundle_dir, "");
  // Templates see the defaults too.
  EXPECT_EQ(r->raw.at("timezone"), "Europe/Paris");
  EXPECT_EQ(r->raw.at("dns.servers"), "1.1.1.1 8.8.8.8");
  EXPECT_EQ(r->raw.at("dns.servers.1"), "8.8.8.8");
  EXPECT_EQ(r->raw.at("network.admin_cidrs"), "");
}

TEST(Settings, ExplicitMissingFileIsAnError) {
  auto r = load_settings("/nonexistent/kbz.yaml", IfMissing::Fail);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "/nonexistent/kbz.yaml: cannot read the settings file: No such file or directory");
  EXPECT_FALSE(load_settings(KBZ_FIXTURES_DIR, IfMissing::Fail).has_value());  // a directory
}

TEST(Settings, EmptyFileMeansDefaults) {
  auto r = parse_settings("# nothing chosen yet\n", "kbz.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->path, "kbz.yaml");
  EXPECT_EQ(r->timezone, "Europe/Paris");
}

TEST(Settings, EverySettingRead) {
  auto r = load_settings(fixture("full.yaml"), IfMissing::Fail);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->path, fixture("full.yaml"));
  EXPECT_EQ(r->private_cidr, "10.20.0.0/16");
  EXPECT_EQ(r->admin_cidrs, (std::vector<std::string>{"91.98.128.153/32", "203.0.113.0/24"}));
  EXPECT_EQ(r->dns_servers, (std::vector<std::string>{"9.9.9.9", "2620:fe::fe"}));
  EXPECT_EQ(r->timezone, "UTC");
  EXPECT_EQ(r->docker_source, "distribution");
  EXPECT_EQ(r->docker_version, "20.10.24+dfsg1-1+b3");
  ASSERT_EQ(r->images.size(), 3u);
  EXPECT_EQ(r->images.at("redis"), "redis:7.2.4");
  EXPECT_EQ(r->image_bundle_dir, "/srv/kbz/images");

  const std::map<std::string, std::string> expected = {
      {"network.private_cidr", "10.20.0.0/16"},
      {"network.admin_cidrs", "91.98.128.153/32 203.0.113.0/24"},
      {"network.admin_cidrs.0", "91.98.128.153/32"},
      {"network.admin_cidrs.1", "203.0.113.0/24"},
      {"dns.servers", "9.9.9.9 2620:fe::fe"},
      {"dns.servers.0", "9.9.9.9"},
      {"dns.servers.1", "2620:fe::fe"},
      {"timezone", "UTC"},
      {"docker.source", "distribution"},
      {"docker.version", "20.10.24+dfsg1-1+b3"},
      {"images.redis", "redis:7.2.4"},
      {"images.haproxy", r->images.at("haproxy")},
      {"images.registry-cache", r->images.at("registry-cache")},
      {"image_bundle_dir", "/srv/kbz/images"},
      {"host_lock", "/run/kbz-install.lock"},
      {"lab", "false"},
      {"preflight.dns_name", "archive.ubuntu.com"},
      {"preflight.min_free_root_gb", "5"},
      {"volumes.count", "2"},
      {"volumes.0.hosts", "db-master-*"},
      {"volumes.0.mount", "/opt/keybuzz/postgres/data"},
      {"volumes.0.fs", "xfs"},
      {"volumes.0.min_gb", "100"},
      {"volumes.0.device", ""},
      {"volumes.0.label", "kbz-postgres"},  // derived from the mount point
      {"volumes.0.required", "true"},
      {"volumes.1.hosts", "redis-01,redis-02"},
      {"volumes.1.mount", "/srv/redis"},
      {"volumes.1.fs", "xfs"},
      {"volumes.1.min_gb", "20"},
      {"volumes.1.device", "/dev/sdb"},
      {"volumes.1.label", "redis-data"},
      {"volumes.1.required", "false"},
  };
  EXPECT_EQ(r->raw, expected);
}

// The team's layout by default; kbz.yaml's table replaces it whole; [] = no data disks.
TEST(Settings, VolumesDefaultToTheTeamsLayout) {
  auto d = parse_settings("", "");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->volumes.size(), 9u);
  EXPECT_EQ(d->volumes[0].hosts, "db-master-*");
  EXPECT_EQ(d->volumes[0].min_gb, 100);
  EXPECT_EQ(d->volumes[1].mount, "/opt/keybuzz/postgres/data");
  EXPECT_EQ(d->volumes[1].min_gb, 50);
  EXPECT_EQ(d->volumes[8].hosts, "k8s-worker-*");
  EXPECT_EQ(d->volumes[8].mount, "/var/lib/containerd");
  for (const auto& v : d->volumes) {
    EXPECT_FALSE(v.required) << v.hosts;
    EXPECT_EQ(v.fs, "xfs");
    EXPECT_LE(v.label.size(), 12u) << v.label;
  }
  auto none = parse_settings("volumes: []\n", "k.yaml");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->volumes.empty());
  EXPECT_EQ(none->raw.at("volumes.count"), "0");
}

TEST(Settings, BadVolumesAllReported) {
  auto r = parse_settings(
      "volumes:\n"
      "  - {hosts: redis-*, mount: data, fs: ext4, min_gb: -1, device: /tmp/x, label: much-too-long-label}\n"
      "  - {mount: /opt/a, size: 3}\n",
      "k.yaml");
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  for (const char* want :
       {"volumes[0].mount 'data' must be an absolute path", "volumes[0].fs is 'ext4'",
        "'min_gb' must be 0..1000000", "volumes[0].device '/tmp/x' must be a path under /dev/",
        "volumes[0].label 'much-too-long-label' must be 1-12 characters", "unknown key 'volumes[1].size'",
        "needs 'hosts'"})
    EXPECT_NE(m.find(want), std::string::npos) << want << "\n" << m;
}

TEST(Settings, UnsetKeysKeepTheirDefaults) {
  auto r = load_settings(fixture("partial.yaml"), IfMissing::Fail);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->timezone, "Europe/Berlin");
  EXPECT_EQ(r->docker_version, "");  // "" = the candidate of the chosen source
  EXPECT_EQ(r->docker_source, "docker-ce");
  EXPECT_EQ(r->private_cidr, "10.0.0.0/16");
}

TEST(Settings, UnknownKeysNamedWithLineColumnAndKnownKeys) {
  EXPECT_EQ(
      errors_of("unknown_keys.yaml"),
      (std::vector<std::string>{
          "unknown_keys.yaml:3:3: unknown key 'network.admin_cidr' (known: private_cidr, admin_cidrs)",
          "unknown_keys.yaml:4:1: unknown key 'timezon' (known: network, dns, timezone, docker, images, "
          "image_bundle_dir, lab, preflight, host_lock, volumes)"}));
}

TEST(Settings, BadValuesAllReportedInFileOrder) {
  EXPECT_EQ(errors_of("bad_values.yaml"),
            (std::vector<std::string>{
                "bad_values.yaml:2:17: '10.0.0.5/16' has host bits set after /16 (a network starts at its "
                "first address)",
                "bad_values.yaml:3:17: '1.2.3.4/33' is not a CIDR: prefix must be 0..32",
                "bad_values.yaml:3:29: '300.1.1.1' is not an IP address or a CIDR",
                "bad_values.yaml:5:22: 'not-an-ip' is not an IP address",
                "bad_values.yaml:7:11: 'docker.source' is 'snap', expected docker-ce or distribution",
                "bad_values.yaml:8:12: 'docker.version' '27.5; curl x | sh' is not a Debian package version",
                "bad_values.yaml:9:11: '../etc/passwd' is not a time zone name (e.g. Europe/Paris)"}));
}

TEST(Settings, ImagesMustBePinned) {
  EXPECT_EQ(
      errors_of("unpinned_images.yaml"),
      (std::vector<std::string>{
          "unpinned_images.yaml:2:10: images.redis: 'redis:latest' uses ':latest', which changes under you: "
          "pin a version tag or a digest",
          "unpinned_images.yaml:3:13: images.postgres: 'postgres' is not pinned: add a version tag "
          "(name:1.2.3) or a digest (name@sha256:...)",
          // a registry port is not a tag
          "unpinned_images.yaml:5:10: images.local: 'registry.local:5000/app' is not pinned: add a version "
          "tag (name:1.2.3) or a digest (name@sha256:...)",
          "unpinned_images.yaml:6:15: images.bad_digest: 'app@sha256:1234' has a malformed digest (expected "
          "@sha256:<64 hex digits>)"}));
}

TEST(Settings, WrongShapes) {
  EXPECT_EQ(
      errors_of("wrong_types.yaml"),
      (std::vector<std::string>{"wrong_types.yaml:1:10: 'network' must be a mapping of keys",
                                "wrong_types.yaml:3:12: 'dns.servers' must be a list, e.g. [a, b]",
                                "wrong_types.yaml:5:11: 'docker.source' must be a single value",
                                "wrong_types.yaml:6:1: 'timezone' must be a single value, found nothing"}));
  auto list_at_top = parse_settings("- a\n- b\n", "k.yaml");
  ASSERT_FALSE(list_at_top.has_value());
  EXPECT_EQ(list_at_top.error().message, "k.yaml:1:1: the file must be a mapping of keys");
}

TEST(Settings, DuplicateKeyAndSyntaxError) {
  EXPECT_EQ(errors_of("duplicate_key.yaml"),
            (std::vector<std::string>{"duplicate_key.yaml:4:1: duplicate key 'timezone' (first on line 1)"}));
  const auto syntax = errors_of("syntax_error.yaml");
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_TRUE(syntax[0].starts_with("syntax_error.yaml:3:")) << syntax[0];
  EXPECT_NE(syntax[0].find("YAML syntax:"), std::string::npos);
}

TEST(Settings, ControlCharactersInMessagesAreEscaped) {
  auto r = parse_settings("time\x1b[31mzone: UTC\n", "k.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "k.yaml:1:1: unknown key 'time\\x1b[31mzone' (known: network, dns, timezone, docker, "
            "images, image_bundle_dir, lab, preflight, host_lock, volumes)");
}

TEST(Settings, CidrEdgeCases) {
  const auto cidr = [](const std::string& v) {
    return parse_settings("network: {private_cidr: \"" + v + "\"}\n", "k.yaml").has_value();
  };
  EXPECT_TRUE(cidr("10.0.0.0/16"));
  EXPECT_TRUE(cidr("0.0.0.0/0"));
  EXPECT_TRUE(cidr("192.168.1.7/32"));
  EXPECT_FALSE(cidr("10.0.0.0"));
  EXPECT_FALSE(cidr("10.0.0.0/"));
  EXPECT_FALSE(cidr("10.0.0.0/-1"));
  EXPECT_FALSE(cidr("010.0.0.0/8"));
  EXPECT_FALSE(cidr("fd00::/8"));  // the private network is IPv4
  const auto admin = [](const std::string& v) {
    return parse_settings("network: {admin_cidrs: [\"" + v + "\"]}\n", "k.yaml");
  };
  EXPECT_EQ(admin("2001:db8::/32")->admin_cidrs.at(0), "2001:db8::/32");
  EXPECT_EQ(admin("2001:db8::1")->admin_cidrs.at(0), "2001:db8::1/128");
  EXPECT_FALSE(admin("2001:db8::1/32").has_value());
}

}  // namespace
}  // namespace kbz

namespace kbz {
namespace {
TEST(Settings, HostLockIsAnAbsolutePlainPathWithAnOptionalHostPlaceholder) {
  auto d = parse_settings("", "kbz.yaml");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host_lock, "/run/kbz-install.lock");
  EXPECT_EQ(d->raw.at("host_lock"), "/run/kbz-install.lock");
  auto per_host = parse_settings("host_lock: /run/kbz-{host}.lock\n", "kbz.yaml");
  ASSERT_TRUE(per_host) << per_host.error().message;
  EXPECT_EQ(per_host->host_lock, "/run/kbz-{host}.lock");
  for (const char* bad : {"run/x.lock", "/run/$(id).lock", "/run/../etc/x", "/run/a b"}) {
    auto r = parse_settings(std::string("host_lock: \"") + bad + "\"\n", "kbz.yaml");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("kbz.yaml:1:12: 'host_lock'"), std::string::npos) << r.error().message;
  }
}

// One data disk per host: a second entry matching the same host would be silently ignored by the step.
TEST(Settings, TwoVolumesForOneHostAreAnInputErrorNamingBothEntries) {
  auto s = parse_settings(
      "volumes:\n  - {hosts: minio-01, mount: /data, min_gb: 1}\n  - {hosts: minio-*, mount: /data2}\n",
      "kbz.yaml");
  ASSERT_TRUE(s) << s.error().message;
  Host a, b;
  a.hostname = "minio-01";
  b.hostname = "minio-02";
  auto r = check_one_volume_per_host(s->volumes, {a, b}, s->path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Input);
  EXPECT_EQ(r.error().message,
            "kbz.yaml: volumes[0] (minio-01) and volumes[1] (minio-*) both match host minio-01: one data "
            "volume per "
            "host");
  EXPECT_TRUE(check_one_volume_per_host(s->volumes, {b}, s->path)) << "minio-02 has only volumes[1]";
  auto defaults = parse_settings("", "");
  ASSERT_TRUE(defaults);
  Host w;
  w.hostname = "k8s-worker-01";
  EXPECT_TRUE(check_one_volume_per_host(defaults->volumes, {a, b, w}, defaults->path)) << "the team's layout";
}
}  // namespace
}  // namespace kbz
