// Module 6 (MinIO): MinIO cannot run in the lab, so what its checks parse is proven here on fixtures built
// from MinIO's documented formats (tests/fixtures/minio/README.md), running the module's own scripts
// (modules/06-minio/templates/kbz-minio-parse.mustache and minio-info.jq.mustache hold no template tags).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "kbz/engine/module.hpp"
#include "kbz/engine/steps/container.hpp"
#include "kbz/failover/minio_node_failover.hpp"

namespace kbz {
namespace {

const std::string kTemplates = std::string(KBZ_SOURCE_DIR) + "/modules/06-minio/templates/";
const std::string kFixtures = std::string(KBZ_FIXTURES_DIR) + "/minio/";

struct Ran {
  int rc = -1;
  std::string out;
};

Ran run(const std::string& command) {
  Ran r;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Ran layout(const std::string& args) {
  return run("sh " + kTemplates + "kbz-minio-parse.mustache layout " + args);
}

TEST(MinioParse, AdminInfoJsonFixtures) {
  for (const char* name : {"admin-info-healthy", "admin-info-node-down-healing", "admin-info-error"}) {
    const Ran r = run("jq -r -f " + kTemplates + "minio-info.jq.mustache " + kFixtures + name + ".json");
    EXPECT_EQ(r.rc, 0) << name;
    EXPECT_EQ(r.out, read(kFixtures + name + ".expected")) << name;
  }
}

TEST(MinioParse, AdminInfoMatchesTheVerifyExpectation) {
  // The minio-admin-info verify regex accepts the healthy cluster and refuses the one with a node down.
  auto m = load_module(6, ModuleSource{});
  ASSERT_TRUE(m) << m.error().message;
  const auto it = std::find_if(m->checks.begin(), m->checks.end(),
                               [](const VerifyCheck& c) { return c.id == "minio-admin-info"; });
  ASSERT_NE(it, m->checks.end());
  const std::regex re(it->expect_regex);
  const std::string expected3 =
      "expected " + layout("/opt/keybuzz/minio/data minio-01 minio-02 minio-03").out;
  EXPECT_TRUE(std::regex_search(read(kFixtures + "admin-info-healthy.expected") + expected3, re));
  const std::string expected6 =
      "expected " + layout("'/opt/keybuzz/minio/data{1...2}' minio-01 minio-02 minio-03").out;
  EXPECT_FALSE(std::regex_search(read(kFixtures + "admin-info-node-down-healing.expected") + expected6, re));
  // Parity other than designed is refused even with every drive online.
  EXPECT_FALSE(std::regex_search(read(kFixtures + "admin-info-healthy.expected") + expected6, re));
  EXPECT_FALSE(std::regex_search(read(kFixtures + "admin-info-error.expected") + expected3, re));
}

TEST(MinioParse, HealthHeaders) {
  const auto health = [](const std::string& fixture, const std::string& name) {
    return run("sh " + kTemplates + "kbz-minio-parse.mustache health " + name + " < " + kFixtures + fixture);
  };
  Ran r = health("health-cluster-200.txt", "cluster");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "cluster=200 write_quorum=2\n");
  r = health("health-cluster-503.txt", "cluster");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "cluster=503 write_quorum=2\n");
  r = health("health-live-200.txt", "live");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "live=200\n");
  r = health("health-live-503-offline.txt", "live");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "live=503 server_status=offline\n");
  r = run("sh " + kTemplates + "kbz-minio-parse.mustache health read < /dev/null");  // no answer at all
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "read=none\n");
}

TEST(MinioLayout, ThreeNodesGiveTheIssuesParities) {
  Ran r = layout("/opt/keybuzz/minio/data minio-01 minio-02 minio-03");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("drives=3 sets=1 set_size=3 parity=EC:1 data=2 write_quorum=2"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("perte d'un nœud : lectures et écritures"), std::string::npos);
  r = layout("'/opt/keybuzz/minio/data{1...2}' minio-03 minio-01 minio-02");  // any order
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("set_size=6 parity=EC:3 data=3 write_quorum=4"), std::string::npos) << r.out;
  r = layout("'/opt/keybuzz/minio/data{1...4}' minio-01 minio-02 minio-03");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("drives=12 sets=1 set_size=12 parity=EC:4 data=8"), std::string::npos) << r.out;
}

TEST(MinioLayout, NoRedundancyOrOtherNamesAreRefusedSayingWhatTheyGive) {
  Ran r = layout("/opt/keybuzz/minio/data minio-01");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "refusé, sans redondance : 1 nœud(s) × 1 disque(s), aucun jeu d'effacement\n");
  EXPECT_LT(r.out.size(), 100u);  // the plan shows the check's last line up to 100 bytes
  r = layout("/opt/keybuzz/minio/data minio-01 minio-02 minio-04");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out,
            "refusé : la commande nomme minio-01..03, l'inventaire donne minio-01 minio-02 minio-04 \n");
  r = layout("/data minio-01 minio-02 minio-03");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("illisibles"), std::string::npos);
  r = layout("/opt/keybuzz/minio/data");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("aucun hôte"), std::string::npos);
}

TEST(MinioLayout, DriveFolders) {
  Ran r = run("sh " + kTemplates + "kbz-minio-parse.mustache drives '/opt/keybuzz/minio/data{1...3}'");
  EXPECT_EQ(r.out, "/opt/keybuzz/minio/data1\n/opt/keybuzz/minio/data2\n/opt/keybuzz/minio/data3\n");
  r = run("sh " + kTemplates + "kbz-minio-parse.mustache drives /opt/keybuzz/minio/data");
  EXPECT_EQ(r.out, "/opt/keybuzz/minio/data\n");
}

Ran parse(const std::string& args) { return run("sh " + kTemplates + "kbz-minio-parse.mustache " + args); }

const std::string kBilling = "billing=keybuzz-backups:rw,keybuzz-media:ro";
const std::string kReporting = "reporting=keybuzz-media:ro";
const std::string kArchiver = "archiver=keybuzz-backups:rw";

TEST(MinioApps, GrantsMustNameBucketsOfTheClusterOnce) {
  Ran r = parse("apps 'keybuzz-backups keybuzz-media' " + kBilling + " " + kReporting);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "applications=2 : billing, reporting\n");
  r = parse("apps keybuzz-backups " + kBilling);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "refusé : billing demande le bucket keybuzz-media, absent de minio.buckets\n");
  r = parse("apps 'keybuzz-backups keybuzz-media' " + kBilling + " billing=keybuzz-media:ro");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "refusé : l'application billing est listée deux fois dans minio.apps\n");
  r = parse("apps keybuzz-backups x-app=keybuzz-backups:ro,keybuzz-backups:rw");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "refusé : x-app nomme le bucket keybuzz-backups deux fois\n");
  r = parse("apps keybuzz-backups");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("aucune application"), std::string::npos);
  for (const auto& line :
       {std::string("refusé : billing demande le bucket keybuzz-media, absent de minio.buckets")})
    EXPECT_LT(line.size(), 100u);  // the plan shows the check's last line up to 100 bytes
}

TEST(MinioApps, PolicyIsLimitedToTheApplicationsBuckets) {
  const Ran r = parse("policy " + kBilling + " | jq -c .");
  ASSERT_EQ(r.rc, 0);
  EXPECT_EQ(r.out,
            "{\"Version\":\"2012-10-17\",\"Statement\":["
            "{\"Effect\":\"Allow\",\"Action\":[\"s3:GetBucketLocation\",\"s3:ListBucket\"],"
            "\"Resource\":[\"arn:aws:s3:::keybuzz-backups\",\"arn:aws:s3:::keybuzz-media\"]},"
            "{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],"
            "\"Resource\":[\"arn:aws:s3:::keybuzz-backups/*\",\"arn:aws:s3:::keybuzz-media/*\"]},"
            "{\"Effect\":\"Allow\",\"Action\":[\"s3:ListBucketMultipartUploads\"],"
            "\"Resource\":[\"arn:aws:s3:::keybuzz-backups\"]},"
            "{\"Effect\":\"Allow\",\"Action\":[\"s3:AbortMultipartUpload\",\"s3:DeleteObject\","
            "\"s3:ListMultipartUploadParts\",\"s3:PutObject\"],"
            "\"Resource\":[\"arn:aws:s3:::keybuzz-backups/*\"]}]}\n");
  // Read-only: no write action at all, on any resource.
  const Ran ro = parse("policy " + kReporting);
  ASSERT_EQ(ro.rc, 0);
  EXPECT_EQ(ro.out.find("PutObject"), std::string::npos);
  EXPECT_EQ(ro.out.find("DeleteObject"), std::string::npos);
  EXPECT_EQ(ro.out.find("keybuzz-backups"), std::string::npos);
  EXPECT_NE(ro.out.find("arn:aws:s3:::keybuzz-media/*"), std::string::npos);
}

TEST(MinioApps, LiveUsersAndPoliciesThatMatchChangeNothing) {
  // MinIO's own order in policy info (statements, actions, a single action as a string) is not a difference.
  const Ran r = parse("apps-diff " + kFixtures + "apps-match/users.json " + kFixtures +
                      "apps-match/policies " + kBilling + " " + kReporting);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "ok billing\nok reporting\n");
}

TEST(MinioApps, DriftGivesOnlyTheChangesNeeded) {
  const Ran r = parse("apps-diff " + kFixtures + "apps-drift/users.json " + kFixtures +
                      "apps-drift/policies " + kBilling + " " + kReporting + " " + kArchiver);
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out,
            "policy-update billing\n"            // its policy was widened to keybuzz-media writes
            "policy-detach billing readwrite\n"  // a root-like policy attached by hand goes
            "user-enable reporting\n"
            "user-add archiver\n"
            "policy-create archiver\n"  // mc's error object for a policy that does not exist
            "policy-attach archiver\n");
  // A user of MinIO not in minio.apps (legacy-app) is left alone: no line names it.
  EXPECT_EQ(r.out.find("legacy-app"), std::string::npos);
}

TEST(MinioMigration, ObjectsAndBytesPerBucket) {
  Ran r = parse("ls-summary < " + kFixtures + "ls-recursive-old.json");
  EXPECT_EQ(r.out, "objects=3 bytes=105907200\n");  // the folder entry is not an object
  r = parse("ls-summary < " + kFixtures + "ls-recursive-error.json");
  EXPECT_EQ(r.out, "objects=0 bytes=0\n");  // the bucket is not there yet
  const std::string tsv = ::testing::TempDir() + "kbz-minio-migration.tsv";
  const auto compare = [&](const std::string& new_side) {
    const std::string line = "keybuzz-backups $(sh " + kTemplates + "kbz-minio-parse.mustache ls-summary < " +
                             kFixtures + "ls-recursive-old.json) $(sh " + kTemplates +
                             "kbz-minio-parse.mustache ls-summary < " + kFixtures + new_side + ")";
    run("echo \"" + line + "\" | sed 's/objects=//g; s/bytes=//g' > " + tsv);
    return parse("migration " + tsv);
  };
  r = compare("ls-recursive-new-full.json");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out,
            "migration=ok buckets=1 objects=3/3 bytes=105907200/105907200 ; keybuzz-backups 3/3 objets "
            "105907200/105907200 octets\n");
  r = compare("ls-recursive-new-partial.json");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out,
            "migration=diff buckets=1 objects=3/2 bytes=105907200/105906176 ; keybuzz-backups 3/2 objets "
            "105907200/105906176 octets ÉCART\n");
  // The report line is what the minio-migration verify check accepts (ok) and refuses (diff).
  auto m = load_module(6, ModuleSource{});
  ASSERT_TRUE(m) << m.error().message;
  const auto it = std::find_if(m->checks.begin(), m->checks.end(),
                               [](const VerifyCheck& c) { return c.id == "minio-migration"; });
  ASSERT_NE(it, m->checks.end());
  EXPECT_FALSE(std::regex_search(r.out, std::regex(it->expect_regex)));
  EXPECT_TRUE(std::regex_search(compare("ls-recursive-new-full.json").out, std::regex(it->expect_regex)));
}

TEST(MinioModule, PinnedReleasesUpstreamCommandCredentialFilesAndAttention) {
  auto m = load_module(6, ModuleSource{});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->images.at("minio"), "minio/minio:RELEASE.2024-10-02T17-50-41Z");
  EXPECT_EQ(m->images.at("mc"), "minio/mc:RELEASE.2024-10-02T08-27-28Z");
  const auto step =
      std::find_if(m->steps.begin(), m->steps.end(), [](const Step& s) { return s.id == "minio-container"; });
  ASSERT_NE(step, m->steps.end());
  const auto& spec = step->spec_as<ContainerStepSpec>();
  ASSERT_FALSE(spec.command.empty());
  EXPECT_EQ(spec.command.back(), "http://minio-0{1...3}:9000{{settings.minio.drives}}");
  EXPECT_EQ(spec.env.at("MINIO_ROOT_USER_FILE"), "/run/secrets/minio_root_user");
  EXPECT_EQ(spec.env.at("MINIO_ROOT_PASSWORD_FILE"), "/run/secrets/minio_root_password");
  EXPECT_FALSE(spec.env.contains("MINIO_ROOT_PASSWORD"));
  EXPECT_NE(std::find(spec.mounts.begin(), spec.mounts.end(),
                      "/etc/kbz/minio/root-password:/run/secrets/minio_root_password:ro"),
            spec.mounts.end());
  ASSERT_EQ(m->attention_fr.size(), 3u);
  EXPECT_NE(m->attention_fr[0].find("CVE-2025-62506"), std::string::npos);
  EXPECT_NE(m->attention_fr[1].find("n'est plus maintenue"), std::string::npos);
  EXPECT_NE(m->attention_fr[2].find("au moins 4 nœuds"), std::string::npos);
  // Every check needing a live MinIO says why the lab cannot run it, and so does the failover scenario.
  for (const auto& c : m->checks) EXPECT_FALSE(c.lab_untested.empty()) << c.id;
  ASSERT_EQ(m->failover.size(), 1u);
  EXPECT_EQ(m->failover[0].kind, kMinioNodeFailoverKind);
  EXPECT_FALSE(m->failover[0].lab_untested.empty());
}

TEST(MinioModule, OneSecretPerApplicationNamedFromTheItem) {
  auto m = load_module(6, ModuleSource{});
  ASSERT_TRUE(m) << m.error().message;
  const auto spec = std::find_if(m->credentials.begin(), m->credentials.end(),
                                 [](const CredentialSpec& c) { return c.for_each == "minio.apps"; });
  ASSERT_NE(spec, m->credentials.end());
  EXPECT_EQ(spec->file, "minio-apps");
  std::map<std::string, std::string> settings = {{"minio.apps", kBilling + " web-shop=keybuzz-media:ro"},
                                                 {"minio.apps.0", kBilling},
                                                 {"minio.apps.1", "web-shop=keybuzz-media:ro"}};
  auto items = credential_items(*spec, settings);
  ASSERT_TRUE(items) << items.error().message;
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].name, "billing");
  EXPECT_EQ((*items)[0].key, "MINIO_APP_SECRET_BILLING");
  EXPECT_EQ((*items)[1].key, "MINIO_APP_SECRET_WEB_SHOP");
  settings["minio.apps.2"] = "billing=keybuzz-media:ro";
  items = credential_items(*spec, settings);
  ASSERT_FALSE(items);
  EXPECT_NE(items.error().message.find("'billing' is listed twice"), std::string::npos);
}

TEST(MinioFailover, WritesAndReadBack) {
  EXPECT_EQ(minio_put_item_script("ab12"),
            "/usr/local/sbin/kbz-minio-cli put-item ab12 \"$1\" >/dev/null 2>&1\n");
  const std::string out = "kbz-ab12-1\nkbz-ab12-2\r\nkbz-ab12-x\nkbz-zz-3\ngarbage\nkbz-ab12-10\n";
  EXPECT_EQ(minio_ids_read_back(out, "ab12"), (std::vector<long>{1, 2, 10}));
}

}  // namespace
}  // namespace kbz
