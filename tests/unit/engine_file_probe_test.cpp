// The batch's one file probe must hand each file step exactly what that step's own check prints: both run
// here through /bin/sh on real files (regular, missing, a folder, a space in the name, a symlink, empty).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kbz/engine/file_probe.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/runners/local_connection.hpp"

namespace kbz {
namespace {
namespace fs = std::filesystem;

ExecResult run_sh(const std::string& script) {
  LocalConnection local(Host{});
  auto res = local.run({script, "", Privilege::AsUser, Millis{20000}});
  EXPECT_TRUE(res) << res.error().message;
  return res ? *res : ExecResult{};
}

TEST(FileProbe, GivesEveryFileWhatItsOwnCheckPrints) {
  const fs::path dir = fs::temp_directory_path() / ("kbz-probe-" + std::to_string(::getpid()));
  fs::create_directories(dir / "a folder");
  std::ofstream(dir / "plain") << "content\n";
  std::ofstream(dir / "with space") << "other\n";
  std::ofstream(dir / "empty");
  fs::permissions(dir / "with space", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_symlink(dir / "plain", dir / "link");
  const std::vector<std::string> paths = {(dir / "plain").string(),    (dir / "missing").string(),
                                          (dir / "a folder").string(), (dir / "with space").string(),
                                          (dir / "link").string(),     (dir / "empty").string(),
                                          (dir / "plain").string()};
  const auto probe = run_sh(file_probe_script(paths));
  EXPECT_EQ(probe.exit_status, 0) << probe.err;
  const auto split = split_file_probe(probe.out, paths);

  std::string yaml = "number: 1\nid: t\ntitle: t\nsteps:\n";
  for (size_t i = 0; i < paths.size(); ++i)
    yaml += "  - {id: f" + std::to_string(i) + ", kind: file, path: \"" + paths[i] + "\", content: x}\n";
  auto m = parse_module(yaml, "t.yaml");
  ASSERT_TRUE(m) << m.error().message;
  for (size_t i = 0; i < paths.size(); ++i) {
    const Step& step = m->steps.at(i);
    const auto path = step.kind->probed_path(step, TemplateContext{});
    ASSERT_TRUE(path) << paths[i];
    EXPECT_EQ(*path, paths[i]);
    auto own = render_check(step, *m, TemplateContext{});
    ASSERT_TRUE(own);
    const auto alone = run_sh(*own);
    ASSERT_TRUE(split.contains(paths[i]));
    EXPECT_EQ(split.at(paths[i]).exit_status, alone.exit_status) << paths[i];
    EXPECT_EQ(split.at(paths[i]).output, alone.out) << paths[i];
  }
  EXPECT_EQ(split.at(paths[1]).output, "absent\n");
  EXPECT_EQ(split.at(paths[2]).output, "absent\n");  // a folder is not the file the step writes
  fs::remove_all(dir);
}

TEST(FileProbe, HalfAnAnswerIsAnErrorNotAnAbsentFile) {
  const std::string hash(64, 'a');
  const auto split = split_file_probe(hash + "  /etc/x\n", {"/etc/x", "/etc/y"});
  EXPECT_EQ(split.at("/etc/x").exit_status, 1);
  EXPECT_NE(split.at("/etc/x").output.find("hash of /etc/x only came back"), std::string::npos);
  const auto meta_only = split_file_probe("644 root:root 0:0 /etc/x\n", {"/etc/x"});
  EXPECT_EQ(meta_only.at("/etc/x").exit_status, 1);
  EXPECT_NE(meta_only.at("/etc/x").output.find("mode and owner of /etc/x only came back"), std::string::npos);
  EXPECT_EQ(split.at("/etc/y").exit_status, 0);
  EXPECT_EQ(split.at("/etc/y").output, "absent\n");
  // Noise (an error line of sha256sum or stat) is neither a hash nor a mode line.
  const auto noisy = split_file_probe("stat: cannot statx '/etc/z': No such file or directory\n", {"/etc/z"});
  EXPECT_EQ(noisy.at("/etc/z").output, "absent\n");
}

TEST(FileProbe, PathsTheShellOrTheToolsWouldRewriteStayOnTheirOwnCheck) {
  EXPECT_TRUE(file_probe_takes("/etc/kbz/a b.conf"));
  EXPECT_FALSE(file_probe_takes("relative/path"));
  EXPECT_FALSE(file_probe_takes("/etc/${KBZ_FACT_hostname}.conf"));  // a fact: expanded only by its check
  EXPECT_FALSE(file_probe_takes("/etc/a\\b"));                       // sha256sum escapes backslashes
  EXPECT_FALSE(file_probe_takes("/etc/a\nb"));
  EXPECT_FALSE(file_probe_takes("/etc/`x`"));
}

}  // namespace
}  // namespace kbz
