#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fixtures/report/module2_fixture.hpp"
#include "kbz/core/atomic_file.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/report/docs_gen.hpp"

namespace kbz {
namespace {
namespace fs = std::filesystem;

bool has(const std::string& t, const std::string& n) { return t.find(n) != std::string::npos; }

class DocsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kbz-docs-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path() const { return (dir_ / "MODULE_02_BASE_OS.md").string(); }
  fs::path dir_;
};

TEST(DocsGeneration, MissingSectionsAreNamedInOrderAndPlaceholdersDoNotCount) {
  std::string doc;
  for (auto name : kDocSections) doc += "## " + std::string(name) + " — suite du titre\n\nTexte.\n\n";
  EXPECT_TRUE(missing_doc_sections(doc).empty());

  // Removed, left as the skeleton's placeholder, or only present inside the generated block: all missing.
  auto without = [&](std::string_view name, std::string_view replacement) {
    std::string d = doc;
    const std::string h = "## " + std::string(name) + " — suite du titre\n\nTexte.\n\n";
    d.replace(d.find(h), h.size(), replacement);
    return d;
  };
  EXPECT_EQ(missing_doc_sections(without("Tests de connectivité", "")),
            std::vector<std::string>{"Tests de connectivité"});
  EXPECT_EQ(
      missing_doc_sections(without("Versions", "## Versions\n\n_À compléter : versions._\n\n### Détail\n")),
      std::vector<std::string>{"Versions"});
  const std::string in_block =
      std::string(kGeneratedBegin) + "\n## Dépannage\n\nGénéré.\n" + std::string(kGeneratedEnd) + "\n";
  EXPECT_EQ(missing_doc_sections(without("Dépannage", in_block)), std::vector<std::string>{"Dépannage"});
  // A heading that only begins with a section's name is another section.
  EXPECT_EQ(missing_doc_sections(without("Architecture", "## Architectures\n\nAutre.\n")),
            std::vector<std::string>{"Architecture"});
  EXPECT_EQ(missing_doc_sections("").size(), kDocSections.size());
}

TEST(DocsGeneration, BlockHoldsTheModuleFactsAndNoDate) {
  Module m = testing::module2();
  m.credentials = {CredentialSpec{"redis", "REDIS_PASSWORD", 32, "alnum"}};
  m.failover = {FailoverScenario{
      "redis-master-stop", "redis-sentinel-failover", "Arrêt du maître Redis", {{"timeout", "30"}}}};
  const std::string b = render_generated_block(m);
  EXPECT_TRUE(b.starts_with(std::string(kGeneratedBegin) + "\n"));
  EXPECT_TRUE(b.ends_with(std::string(kGeneratedEnd) + "\n"));
  EXPECT_TRUE(has(b, "depuis modules/02-base-os/module.yaml"));
  EXPECT_TRUE(has(b, "| docker | `5:27.5.1-1~ubuntu.24.04~noble` |"));
  EXPECT_TRUE(has(b,
                  "| 1 | `sshd-hardening` | file | Durcissement SSH | "
                  "`/etc/ssh/sshd_config.d/99-keybuzz.conf` | tous | — |"));
  EXPECT_TRUE(
      has(b, "| 3 | `base-packages` | packages | Paquets de base | `curl`, `wget`, `jq` | tous | — |"));
  EXPECT_TRUE(has(b,
                  "| `/etc/ssh/sshd_config.d/99-keybuzz.conf` | `0644` | `root:root` | `sshd-hardening` | "
                  "`sshd-hardening.conf.mustache` |"));
  EXPECT_TRUE(has(b, "- 22/tcp depuis le CIDR admin et le CIDR privé"));
  EXPECT_TRUE(has(b, "#### `ufw-active` — Pare-feu UFW actif"));
  EXPECT_TRUE(has(b, "- Attendu : code de sortie 0 et sortie contenant `Status: active`"));
  EXPECT_TRUE(has(b, "```sh\nsshd -T | grep -i '^passwordauthentication'\n```"));
  EXPECT_TRUE(
      has(b, "| `redis-master-stop` | `redis-sentinel-failover` | Arrêt du maître Redis | `timeout=30` |"));
  EXPECT_TRUE(has(b, "| `credentials/redis.env` | `REDIS_PASSWORD` | 32 | alnum |"));
  EXPECT_FALSE(has(b, "2026"));  // deterministic: no dates
  // Where the module came from does not change the text (embedded copy vs --modules-dir).
  Module from_dir = m;
  from_dir.source_dir = "/home/ops/kbz/modules/02-base-os/";
  EXPECT_EQ(render_generated_block(from_dir), b);
}

TEST(DocsGeneration, MergeKeepsHandWrittenTextByteForByte) {
  const std::string before = "# Module 2\r\n\nNotes with trailing spaces   \n\n";
  const std::string after = "\n## Dépannage\n\nNo final newline";
  const std::string doc =
      before + std::string(kGeneratedBegin) + "\nold generated text\n" + std::string(kGeneratedEnd) + after;
  const std::string block = render_generated_block(testing::module2());
  auto merged = merge_generated(doc, block, "docs/X.md");
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_TRUE(merged->starts_with(before));
  EXPECT_TRUE(merged->ends_with(std::string(kGeneratedEnd) + after));
  EXPECT_FALSE(has(*merged, "old generated text"));
  // Round trip: merging again changes nothing.
  auto again = merge_generated(*merged, block, "docs/X.md");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *merged);
}

TEST(DocsGeneration, BrokenMarkersAreErrorsWithLine) {
  const std::string block = render_generated_block(testing::module2());
  auto only_begin = merge_generated("a\nb\n" + std::string(kGeneratedBegin) + "\n", block, "docs/M.md");
  ASSERT_FALSE(only_begin);
  EXPECT_EQ(only_begin.error().message, "docs/M.md:3: BEGIN GENERATED marker without END");
  auto reversed =
      merge_generated(std::string(kGeneratedEnd) + "\n" + std::string(kGeneratedBegin) + "\n", block, "d.md");
  ASSERT_FALSE(reversed);
  EXPECT_EQ(reversed.error().message, "d.md:1: END GENERATED marker before BEGIN");
  const std::string twice = std::string(kGeneratedBegin) + "\n" + std::string(kGeneratedEnd) + "\n" +
                            std::string(kGeneratedBegin) + "\n" + std::string(kGeneratedEnd) + "\n";
  EXPECT_FALSE(merge_generated(twice, block, "d.md"));
  // No markers at all: the block is appended, the hand-written text kept.
  auto appended = merge_generated("# Hand written\n", block, "d.md");
  ASSERT_TRUE(appended);
  EXPECT_EQ(*appended, "# Hand written\n\n" + block);
}

TEST_F(DocsDir, MissingDocIsCreatedWithFrenchSkeleton) {
  auto u = plan_doc_update(testing::module2(), dir_.string());
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->change, DocChange::Created);
  EXPECT_EQ(u->path, path());
  EXPECT_FALSE(fs::exists(path()));  // planning writes nothing
  EXPECT_TRUE(has(u->content, "# Module 2 — Base OS & sécurité"));
  for (auto s : kDocSections) {
    EXPECT_TRUE(has(u->content, "## " + std::string(s) + "\n\n_À compléter")) << s;
    EXPECT_LT(u->content.find("## " + std::string(s)), u->content.find(kGeneratedBegin)) << s;
  }
  // Every section is a placeholder until people write it.
  EXPECT_EQ(missing_doc_sections(u->content).size(), kDocSections.size());
}

TEST_F(DocsDir, CheckDetectsDriftAndUpToDateDocsStayUnchanged) {
  Module m = testing::module2();
  auto first = plan_doc_update(m, dir_.string());
  ASSERT_TRUE(first);
  ASSERT_TRUE(write_file_atomic(first->path, first->content));
  // People edit outside the markers: still up to date.
  std::string text = *read_text_file(path());
  text.insert(text.find("## Dépannage") + 13, "\nSi `sshd -t` échoue : lire /var/log/auth.log.\n");
  ASSERT_TRUE(write_file_atomic(path(), text));
  auto same = plan_doc_update(m, dir_.string());
  ASSERT_TRUE(same);
  EXPECT_EQ(same->change, DocChange::Unchanged);
  EXPECT_EQ(same->content, text);

  // The module changes (a new check): the doc is out of date, and only the block changes.
  m.checks.push_back(testing::check("journald-limit", "Limite journald", "Journal",
                                    "test -f /etc/systemd/journald.conf.d/limit.conf"));
  auto drift = plan_doc_update(m, dir_.string());
  ASSERT_TRUE(drift);
  EXPECT_EQ(drift->change, DocChange::Updated);
  EXPECT_TRUE(has(drift->content, "Limite journald"));
  EXPECT_TRUE(has(drift->content, "Si `sshd -t` échoue : lire /var/log/auth.log."));

  // Someone edits inside the markers: drift too.
  std::string tampered = text;
  tampered.insert(tampered.find(kGeneratedEnd), "edited by hand\n");
  ASSERT_TRUE(write_file_atomic(path(), tampered));
  auto t = plan_doc_update(testing::module2(), dir_.string());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->change, DocChange::Updated);
  EXPECT_EQ(t->content, text);
}

TEST(DocsGeneration, ModuleWithoutDocNameIsAnInputError) {
  Module m = testing::module2();
  m.doc.clear();
  auto u = plan_doc_update(m, "docs");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().kind, ErrorKind::Input);
}

}  // namespace
}  // namespace kbz
