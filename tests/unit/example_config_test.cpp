// inventory/kbz.yaml.example: the block rendered from the modules, and the rule that the example parses to
// exactly the defaults.
#include "kbz/report/example_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "kbz/core/atomic_file.hpp"

namespace kbz {
namespace {
namespace fs = std::filesystem;

SettingSpec spec(std::string key, SettingType t, std::vector<std::string> def, std::string doc, int module) {
  SettingSpec s;
  s.key = std::move(key);
  s.type = t;
  s.default_value = std::move(def);
  s.doc_fr = std::move(doc);
  s.module = module;
  return s;
}

std::vector<Module> two_modules() {
  Module a;
  a.number = 3;
  a.title_fr = "PostgreSQL";
  a.images = {{"haproxy", "haproxy:2.8.5"}, {"patroni", "kbz/patroni:16.6-3.3.11"}};
  a.settings = {spec("postgres.max_connections", SettingType::Integer, {"300"}, "Connexions max.", 3),
                spec("postgres.pool.mode", SettingType::String, {"transaction"}, "Mode PgBouncer.", 3),
                spec("postgres.sync", SettingType::Boolean, {"true"}, "", 3)};
  Module b;
  b.number = 4;
  b.title_fr = "Redis";
  b.images = {{"haproxy", "haproxy:2.8.5"}};
  b.settings = {spec("redis.nodes", SettingType::List, {"a", "b"}, "Nœuds.", 4)};
  return {a, b};
}

TEST(ExampleConfig, BlockHasOneImagesMapAndNestedSettingsWithTheirDefaults) {
  const std::string b = render_example_block(two_modules());
  EXPECT_TRUE(b.starts_with("# " + std::string(kGeneratedBegin) + "\n"));
  EXPECT_TRUE(b.ends_with("# " + std::string(kGeneratedEnd) + "\n"));
  EXPECT_NE(b.find("  haproxy: \"haproxy:2.8.5\"    # modules 3, 4\n"), std::string::npos) << b;
  EXPECT_EQ(b.find("images:"), b.rfind("images:"));  // one map, never a repeated key
  EXPECT_NE(b.find("postgres:\n  # Connexions max.\n  max_connections: 300\n  pool:\n    # Mode PgBouncer.\n"
                   "    mode: \"transaction\"\n  sync: true\n"),
            std::string::npos)
      << b;
  EXPECT_NE(b.find("redis:\n  # Nœuds.\n  nodes: [\"a\", \"b\"]\n"), std::string::npos) << b;
}

TEST(ExampleConfig, CreatedExampleParsesToTheDefaultsAndADriftedValueIsRefused) {
  const fs::path dir = fs::temp_directory_path() / ("kbz-example-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "kbz.yaml.example").string();
  const auto modules = two_modules();
  auto created = plan_example_update(modules, path);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->change, DocChange::Created);
  ASSERT_TRUE(write_file_atomic(path, created->content));
  auto again = plan_example_update(modules, path);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->change, DocChange::Unchanged);

  // A value people changed above the markers that is not the default: the example would lie.
  ASSERT_TRUE(write_file_atomic(path, "timezone: Europe/Berlin\n" + created->content));
  auto drifted = plan_example_update(modules, path);
  ASSERT_FALSE(drifted);
  EXPECT_NE(drifted.error().message.find("`timezone` is 'Europe/Berlin' in the example but 'Europe/Paris'"),
            std::string::npos)
      << drifted.error().message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kbz
