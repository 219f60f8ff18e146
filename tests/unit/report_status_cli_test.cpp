// `kbz-install status` as the CLI runs it: SUIVI_INSTALLATION_V2.md written from .kbz/state.json.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "kbz/cli/commands.hpp"
#include "kbz/core/atomic_file.hpp"
#include "kbz/report/run_state.hpp"

namespace kbz {
namespace {
namespace fs = std::filesystem;

TEST(ReportStatusCli, WritesSuiviWithTitlesFromTheModuleDefinitions) {
  const fs::path work = fs::temp_directory_path() / ("kbz-status-cli-" + std::to_string(::getpid()));
  fs::remove_all(work);
  GlobalOptions g;
  g.workdir = work.string();
  g.modules_dir = std::string(KBZ_FIXTURES_DIR) + "/report/modules";
  RunRecord apply;
  apply.kind = "apply";
  apply.module = 2;
  apply.status = "ok";
  apply.started_utc = "2026-11-27T21:00:00Z";
  apply.hosts = 48;
  ASSERT_TRUE(record_run(g.workdir, apply));

  EXPECT_EQ(cmd_status(g), 0);
  auto suivi = read_text_file((work / "SUIVI_INSTALLATION_V2.md").string());
  ASSERT_TRUE(suivi);
  EXPECT_NE(suivi->find("| 2 | Base OS (définition de test) | 🔄 appliqué, non vérifié |"), std::string::npos)
      << *suivi;
  EXPECT_NE(suivi->find("| 3 | PostgreSQL 16 HA (Patroni RAFT) | ⏳"), std::string::npos);  // built-in title
  EXPECT_NE(suivi->find("kbz-install --modules-dir " + g.modules_dir + " --workdir " + g.workdir +
                        " verify --module 2"),
            std::string::npos);

  // A corrupt state file is bad input, not an empty installation.
  ASSERT_TRUE(write_file_atomic((work / ".kbz" / "state.json").string(), "{not json"));
  EXPECT_EQ(cmd_status(g), 2);
  fs::remove_all(work);
}

}  // namespace
}  // namespace kbz
