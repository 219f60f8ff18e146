// `kbz-install docs` and `docs --check` as the CLI runs them, on a module folder fixture.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "kbz/cli/commands.hpp"
#include "kbz/core/atomic_file.hpp"
#include "kbz/report/docs_gen.hpp"

namespace kbz {
namespace {
namespace fs = std::filesystem;

TEST(DocsCli, CreateThenCheckThenDetectDrift) {
  const fs::path dir = fs::temp_directory_path() / ("kbz-docs-cli-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  GlobalOptions g;
  g.modules_dir = std::string(KBZ_FIXTURES_DIR) + "/report/modules";
  const std::string docs = dir.string();
  const std::string doc = (dir / "MODULE_02_BASE_OS.md").string();

  EXPECT_EQ(cmd_docs(g, DocsMode::Check, docs), 1);  // missing doc = out of date
  EXPECT_FALSE(fs::exists(doc));                     // --check changes nothing
  EXPECT_EQ(cmd_docs(g, DocsMode::Write, docs), 0);
  ASSERT_TRUE(fs::exists(doc));
  // The skeleton's sections are placeholders: up to date, but not written, so --check still fails.
  EXPECT_EQ(cmd_docs(g, DocsMode::Check, docs), 1);

  // Hand-written text outside the markers is kept and is not drift; once every section holds text the check
  // passes.
  std::string text = *read_text_file(doc);
  for (auto name : kDocSections) {
    const std::string placeholder = "## " + std::string(name) + "\n\n_À compléter ._";
    const size_t at = text.find(placeholder);
    ASSERT_NE(at, std::string::npos) << name;
    text.replace(at, placeholder.size(), "## " + std::string(name) + "\n\nÉcrit par l'équipe.");
  }
  ASSERT_TRUE(write_file_atomic(doc, text));
  EXPECT_EQ(cmd_docs(g, DocsMode::Check, docs), 0);
  text += "\nNote de l'équipe : ne pas réactiver le swap.\n";
  ASSERT_TRUE(write_file_atomic(doc, text));
  EXPECT_EQ(cmd_docs(g, DocsMode::Check, docs), 0);

  // An edit inside the generated block is drift; regenerating restores it and keeps the note.
  std::string tampered = text;
  tampered.insert(tampered.find(kGeneratedEnd), "modifié à la main\n");
  ASSERT_TRUE(write_file_atomic(doc, tampered));
  EXPECT_EQ(cmd_docs(g, DocsMode::Check, docs), 1);
  EXPECT_EQ(*read_text_file(doc), tampered);
  EXPECT_EQ(cmd_docs(g, DocsMode::Write, docs), 0);
  EXPECT_EQ(*read_text_file(doc), text);

  // A broken marker is bad input (exit 2), and nothing is written.
  ASSERT_TRUE(write_file_atomic(doc, std::string(kGeneratedBegin) + "\n"));
  EXPECT_EQ(cmd_docs(g, DocsMode::Write, docs), 2);
  EXPECT_EQ(*read_text_file(doc), std::string(kGeneratedBegin) + "\n");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kbz
