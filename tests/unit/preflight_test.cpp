// Preflight: the verdict lines, which ports a host is checked for, and the scripts run for real on this
// machine (a port held by this test process is refused, a free one is fine).
#include "kbz/engine/preflight.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>

#include "kbz/engine/batch.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/inventory/inventory.hpp"
#include "kbz/runners/local_connection.hpp"

using namespace kbz;

namespace {

Module with_listens() {
  auto m = parse_module(
      "number: 4\nid: t\ntitle: t\nlistens:\n"
      "  - {port: 6379, hosts: 'role:redis', owner: redis}\n"
      "  - {port: 8404, hosts: 'subrole:internal-haproxy', owner: haproxy-redis}\n",
      "t.yaml");
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? *m : Module{};
}

const PreflightItem* find(const std::vector<PreflightItem>& items, const std::string& id) {
  for (const auto& i : items)
    if (i.id == id) return &i;
  return nullptr;
}

}  // namespace

TEST(Preflight, VerdictLinesAndTheFailuresSummary) {
  EXPECT_EQ(parse_preflight("os", 0, "noise\nok Ubuntu 24.04.1 LTS\n").status, PreflightStatus::Ok);
  const auto warn = parse_preflight("os", 0, "warn Debian GNU/Linux 12 (bookworm) (Ubuntu 24.04 expected)\n");
  EXPECT_EQ(warn.status, PreflightStatus::Warn);
  EXPECT_EQ(warn.detail, "Debian GNU/Linux 12 (bookworm) (Ubuntu 24.04 expected)");
  const auto garbage = parse_preflight("dns", 127, "sh: getent: not found\n");
  EXPECT_EQ(garbage.status, PreflightStatus::Fail) << "no verdict is a failure, never a pass";
  EXPECT_NE(garbage.detail.find("exit 127"), std::string::npos);
  EXPECT_EQ(preflight_failures({warn, {"dns", PreflightStatus::Fail, "x does not resolve"}}),
            "preflight: dns: x does not resolve");
  EXPECT_EQ(preflight_failures({warn}), "");
}

TEST(Preflight, EachHostIsCheckedForThePortsOfItsOwnServices) {
  const Module m = with_listens();
  Host redis;
  redis.hostname = "redis-01";
  redis.role = "redis";
  Host lb;
  lb.hostname = "haproxy-01";
  lb.role = "lb";
  lb.subrole = "internal-haproxy";
  const auto ri = preflight_items({&m}, redis, Settings{});
  const auto li = preflight_items({&m}, lb, Settings{});
  for (const char* core : {"os", "disk-root", "clock", "dns"}) {
    EXPECT_NE(find(ri, core), nullptr) << core;
    EXPECT_NE(find(li, core), nullptr) << core;
  }
  EXPECT_NE(find(ri, "port-6379/tcp"), nullptr);
  EXPECT_EQ(find(ri, "port-8404/tcp"), nullptr);
  EXPECT_NE(find(li, "port-8404/tcp"), nullptr);
  EXPECT_EQ(find(li, "port-6379/tcp"), nullptr);
}

// The scripts for real, through /bin/sh: a port this process listens on is "held by" it, refused.
TEST(Preflight, APortHeldByAnotherProcessIsRefusedAndAFreeOneIsFine) {
  if (access("/usr/bin/ss", X_OK) != 0 && access("/bin/ss", X_OK) != 0)
    GTEST_SKIP() << "ss (iproute2) missing";
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int held = ntohs(a.sin_port);

  auto m = parse_module("number: 4\nid: t\ntitle: t\nlistens:\n  - {port: " + std::to_string(held) +
                            ", owner: redis}\n  - {port: 1, owner: redis}\n",
                        "t.yaml");
  ASSERT_TRUE(m) << m.error().message;
  Settings s;
  s.preflight_dns_name = "localhost";
  s.preflight_min_free_root_gb = 0;
  LocalConnection local(Host{});
  auto out = run_batch(local, preflight_batch(preflight_items({&*m}, Host{}, s)), Millis{30000});
  ASSERT_TRUE(out) << out.error().message;
  std::map<std::string, PreflightResult> r;
  for (const auto& o : *out) {
    auto p = parse_preflight(o.id.substr(kPreflightPrefix.size()), o.exit_status, o.output);
    r[p.id] = p;
  }
  close(fd);
  EXPECT_EQ(r.at("port-" + std::to_string(held) + "/tcp").status, PreflightStatus::Fail)
      << r.at("port-" + std::to_string(held) + "/tcp").detail;
  EXPECT_NE(r.at("port-" + std::to_string(held) + "/tcp").detail.find("held by"), std::string::npos);
  EXPECT_EQ(r.at("port-1/tcp").status, PreflightStatus::Ok) << r.at("port-1/tcp").detail;
  EXPECT_EQ(r.at("dns").status, PreflightStatus::Ok) << r.at("dns").detail;
  EXPECT_EQ(r.at("disk-root").status, PreflightStatus::Ok) << r.at("disk-root").detail;
  EXPECT_NE(r.at("os").status, PreflightStatus::Fail) << "an other OS is a warning: " << r.at("os").detail;
}

// A module with a volume step: each host its kbz.yaml volume names is checked for it ("data volume
// attached"); run here for real (this machine has no Hetzner volume): not required = warn, required = fail.
TEST(Preflight, DataVolumeAttachedForTheHostsTheVolumesTableNames) {
  auto m =
      parse_module("number: 2\nid: t\ntitle: t\nsteps:\n  - {id: data-volume, kind: volume}\n", "t.yaml");
  ASSERT_TRUE(m) << m.error().message;
  auto layout = parse_settings("", "");
  ASSERT_TRUE(layout);
  Host redis, install;
  redis.hostname = "redis-01";
  install.hostname = "install-01";
  EXPECT_EQ(find(preflight_items({&*m}, install, *layout), "volume"), nullptr) << "no volume in the layout";
  const auto* item = find(preflight_items({&*m}, redis, *layout), "volume");
  ASSERT_NE(item, nullptr);
  LocalConnection local(redis);
  auto r = local.run({item->script, "", Privilege::AsUser, Millis{30000}});
  ASSERT_TRUE(r);
  const auto res = parse_preflight("volume", r->exit_status, r->out + r->err);
  EXPECT_EQ(res.status, PreflightStatus::Warn) << res.detail;
  EXPECT_EQ(res.detail, "no data volume attached: data stays on / under /opt/keybuzz/redis/data");

  auto required =
      parse_settings("volumes:\n  - {hosts: redis-*, mount: /srv/r, min_gb: 1, required: true}\n", "k");
  ASSERT_TRUE(required) << required.error().message;
  item = find(preflight_items({&*m}, redis, *required), "volume");
  ASSERT_NE(item, nullptr);
  r = local.run({item->script, "", Privilege::AsUser, Millis{30000}});
  ASSERT_TRUE(r);
  EXPECT_EQ(parse_preflight("volume", r->exit_status, r->out + r->err).status, PreflightStatus::Fail)
      << r->out;
}

// Modules 3, 4 and 5 all put an HAProxy on haproxy-01/02: two modules' containers may never claim the same
// port on the same hosts (module 5's stats once took module 3's 8405; only the shared lab's preflight caught
// it).
TEST(ModulePorts, NoTwoModulesClaimOnePortOnTheSameHosts) {
  auto all = load_all_modules(ModuleSource{std::string(KBZ_SOURCE_DIR) + "/modules"});
  ASSERT_TRUE(all) << all.error().message;
  // Selectors are resolved against the real fleet, so two spellings of overlapping host sets
  // (role:db vs db-master-01) still meet on the same hostname.
  const auto fleet = load_inventory(std::string(KBZ_SOURCE_DIR) + "/inventory/servers.tsv");
  ASSERT_TRUE(fleet.ok());
  const auto prod = targets(fleet.inventory, TargetOptions{});
  struct Claim {
    int module;
    std::string owner;
  };
  std::map<std::string, Claim> claimed;  // "port/proto hostname" -> who claimed it first
  for (const auto& m : *all) {
    for (const auto& l : m.listens) {
      int matched = 0;
      for (const auto& h : prod) {
        // Preflight's own matching: the module's targets, then the listen's selector.
        if ((m.targets != "all" && !selector_matches(m.targets, h)) || !selector_matches(l.hosts, h))
          continue;
        ++matched;
        const std::string key = std::to_string(l.port) + "/" + l.proto + " " + h.hostname;
        auto [it, fresh] = claimed.emplace(key, Claim{m.number, l.owner});
        // The same container named by two modules (module 8 tunes module 7's) is one claim, not two.
        if (!fresh)
          EXPECT_EQ(it->second.owner, l.owner)
              << key << " claimed by module " << it->second.module << " (" << it->second.owner
              << ") and module " << m.number << " (" << l.owner << ")";
      }
      EXPECT_GT(matched, 0) << "module " << m.number << " listen " << l.port << " (" << l.hosts
                            << ") matches no host of inventory/servers.tsv";
    }
  }
  EXPECT_GT(claimed.size(), 30u);
}
