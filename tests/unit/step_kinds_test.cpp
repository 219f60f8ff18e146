// Fixture tests per step kind (pyinfra's operation tests): given a step, the check's recorded output and the
// facts, assert the decision and the exact apply command. One case per file in tests/fixtures/steps/<kind>/,
// and every kind of the table has a folder.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "kbz/core/secret.hpp"
#include "kbz/engine/step_kind.hpp"

namespace fs = std::filesystem;
using namespace kbz;

namespace {

struct Case {
  std::string name;  // <kind>_<file>
  std::string kind;  // its folder
  YAML::Node node;
};

std::vector<Case> load_cases() {
  // Paths sorted first: a YAML::Node must not be moved around by std::sort (its assignment writes through).
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(KBZ_FIXTURES_DIR) / "steps"))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Case> cases;
  for (const auto& f : files) {
    const std::string kind = f.parent_path().filename().string();
    cases.push_back({kind + "_" + f.stem().string(), kind, YAML::LoadFile(f.string())});
  }
  return cases;
}

std::map<std::string, std::string> as_map(const YAML::Node& n) {
  std::map<std::string, std::string> m;
  if (n)
    for (const auto& kv : n) m[kv.first.as<std::string>()] = kv.second.as<std::string>();
  return m;
}

class StepFixture : public ::testing::TestWithParam<Case> {};

TEST_P(StepFixture, DecisionAndApplyMatchTheFixture) {
  const YAML::Node& c = GetParam().node;
  YAML::Node mod;
  mod["number"] = 1;
  mod["id"] = "fixture";
  mod["title"] = "fixture";
  if (c["images"]) mod["images"] = c["images"];
  mod["steps"].push_back(c["step"]);
  auto module = parse_module(YAML::Dump(mod), "fixture.yaml");
  ASSERT_TRUE(module) << module.error().message;
  module->templates = as_map(c["templates"]);

  TemplateContext ctx;
  ctx.host.hostname = "web-01";
  ctx.host.private_ip = "10.0.0.5";
  ctx.host.role = "app";
  ctx.settings = {{"dns.primary", "1.1.1.1"}, {"timezone", "Europe/Paris"}};
  for (const auto& [k, v] : as_map(c["settings"])) ctx.settings[k] = v;  // flattened kbz.yaml keys
  ctx.facts = as_map(c["facts"]);
  ctx.credentials = as_map(c["credentials"]);
  for (const auto& [_, v] : ctx.credentials) Masker::global().add(v);

  const Step& step = module->steps.at(0);
  EXPECT_EQ(step.kind_name(), GetParam().kind) << "a fixture lives in the folder of its step's kind";
  TemplateContext shell_ctx = ctx;
  shell_ctx.facts_as_shell_vars = true;
  auto check = render_check(step, *module, shell_ctx);
  ASSERT_TRUE(check) << check.error().message;
  auto d =
      decide(step, *module, CheckOutput{c["check_exit"].as<int>(), c["check_output"].as<std::string>()}, ctx);
  const YAML::Node& e = c["expect"];
  if (e["error_contains"]) {
    ASSERT_FALSE(d) << "expected an error";
    EXPECT_NE(d.error().message.find(e["error_contains"].as<std::string>()), std::string::npos)
        << d.error().message;
    if (e["error_lacks"]) {
      EXPECT_EQ(d.error().message.find(e["error_lacks"].as<std::string>()), std::string::npos);
    }
    return;
  }
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->change, e["change"].as<bool>());
  if (!d->change) {
    EXPECT_TRUE(d->apply.command.empty());
    return;
  }
  if (e["message"]) {
    EXPECT_EQ(mask(d->message), e["message"].as<std::string>());
  }
  if (e["apply"]) {
    EXPECT_EQ(d->apply.command, e["apply"].as<std::string>());
  }
  for (const auto& s : e["apply_contains"])
    EXPECT_NE(d->apply.command.find(s.as<std::string>()), std::string::npos) << s;
  for (const auto& s : e["apply_lacks"])
    EXPECT_EQ(d->apply.command.find(s.as<std::string>()), std::string::npos) << s;
  if (e["stdin"]) {
    EXPECT_EQ(d->apply.stdin_data, e["stdin"].as<std::string>());
  }
  // Whatever the kind, a registered secret never reaches the command line.
  EXPECT_EQ(mask(d->apply.command), d->apply.command);
  EXPECT_EQ(mask(*check), *check);
}

INSTANTIATE_TEST_SUITE_P(Steps, StepFixture, ::testing::ValuesIn(load_cases()), [](const auto& info) {
  std::string n = info.param.name;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

TEST(StepKinds, EveryKindOfTheTableHasAFixtureFolder) {
  for (const auto* kind : step_kinds()) {
    const auto dir = fs::path(KBZ_FIXTURES_DIR) / "steps" / std::string(kind->name());
    bool any = false;
    if (fs::is_directory(dir))
      for (const auto& e : fs::directory_iterator(dir)) any |= e.path().extension() == ".yaml";
    EXPECT_TRUE(any) << "no fixture case in " << dir;
  }
}

// One step of a module written inline, parsed the way module.yaml is.
Module one_step(const std::string& step_yaml) {
  auto m = parse_module("number: 1\nid: t\ntitle: t\nsteps:\n  - " + step_yaml + "\n", "t.yaml");
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? *m : Module{};
}

TEST(StepChecks, FileCheckSendsOnlyThePathAndReturnsOnlyAHash) {
  const Module m = one_step("{id: x, kind: file, path: \"/etc/a b'c\", content: x}");
  auto check = render_check(m.steps.at(0), m, TemplateContext{});
  ASSERT_TRUE(check);
  EXPECT_EQ(*check,
            "kbz_p='/etc/a b'\\''c'; if [ -f \"$kbz_p\" ]; then sha256sum < \"$kbz_p\"; "
            "stat -c '%a %U:%G %u:%g' \"$kbz_p\"; else echo absent; fi");
}

TEST(StepChecks, FactsInChecksBecomeShellVariablesOfTheBatch) {
  const Module m =
      one_step("{id: x, kind: command, check: 'systemctl is-active {{facts.ssh_unit}}', apply: 'true'}");
  TemplateContext ctx;
  ctx.facts_as_shell_vars = true;
  auto check = render_check(m.steps.at(0), m, ctx);
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_EQ(*check, "systemctl is-active ${KBZ_FACT_ssh_unit}");
}

TEST(StepChecks, PackagesQueryDpkgByNameWithoutVersion) {
  const Module m = one_step("{id: p, kind: packages, packages: ['docker-ce=5:27.5.1-1', jq]}");
  auto check = render_check(m.steps.at(0), m, TemplateContext{});
  ASSERT_TRUE(check);
  EXPECT_EQ(*check, "dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\n' 'docker-ce' 'jq'");
}

}  // namespace

namespace {

TEST(StepChecks, ACheckStdinTravelsAsAQuotedHeredocInsideTheBatch) {
  const Module m = one_step(
      "{id: u, kind: command, check: 'kbz-db-cli same-password kb_app', apply: 'kbz-db-cli sql', "
      "check_stdin: \"{{credentials.APP_PASSWORD}}\"}");
  TemplateContext ctx;
  ctx.credentials["APP_PASSWORD"] = "pw-$(not-expanded)";
  auto check = render_check(m.steps.at(0), m, ctx);
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_TRUE(check->starts_with("{ kbz-db-cli same-password kb_app\n} <<'KBZ")) << *check;
  EXPECT_NE(check->find("\npw-$(not-expanded)\nKBZ"), std::string::npos) << *check;
}

TEST(StepChecks, StdinAndItsTemplateExcludeEachOther) {
  auto m = parse_module(
      "number: 1\nid: t\ntitle: t\nsteps:\n  - {id: u, kind: command, check: x, apply: y, stdin: a, "
      "stdin_template: b.mustache}\n",
      "t.yaml");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("stdin and stdin_template exclude each other"), std::string::npos);
}

}  // namespace
