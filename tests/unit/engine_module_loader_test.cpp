// module.yaml loader: strict keys, errors naming module.yaml:LINE:COL, kind-specific fields.
#include <gtest/gtest.h>

#include "kbz/engine/module.hpp"
#include "kbz/engine/step_kind.hpp"

using namespace kbz;

namespace {

std::string error_of(const std::string& yaml) {
  auto m = parse_module(yaml, "module.yaml");
  return m ? std::string("(no error)") : m.error().message;
}

const char* kHead = "number: 3\nid: t\ntitle: T\n";

TEST(ModuleLoader, LoadsTheTestModuleFromAFolder) {
  auto m = load_module(90, ModuleSource{std::string(KBZ_FIXTURES_DIR) + "/modules"});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->id, "sample");
  EXPECT_EQ(m->title_fr, "Module de test du moteur");
  ASSERT_EQ(m->steps.size(), 5u);
  EXPECT_EQ(m->steps[1].kind_name(), "file");
  EXPECT_EQ(m->steps[1].kind->doc_file(m->steps[1])->source, "`app.conf.mustache`");
  EXPECT_EQ(m->steps[1].notify, std::vector<std::string>{"reload-app"});
  EXPECT_EQ(m->steps[1].line, 17);
  EXPECT_EQ(m->steps[4].timeout_s, 5);
  EXPECT_TRUE(m->templates.contains("app.conf.mustache"));
  ASSERT_EQ(m->handlers.size(), 1u);
  EXPECT_TRUE(m->handlers[0].reconnect);
  ASSERT_EQ(m->credentials.size(), 1u);
  EXPECT_EQ(m->credentials[0].key, "SAMPLE_TOKEN");
}

TEST(ModuleLoader, UnknownModuleNamesTheKnownOnes) {
  auto m = load_module(42, ModuleSource{std::string(KBZ_FIXTURES_DIR) + "/modules"});
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("no module 42"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("90-sample"), std::string::npos) << m.error().message;
}

TEST(ModuleLoader, UnknownKeyIsAnErrorWithLineAndColumn) {
  // Every problem at once, in file order; the known keys are those of this kind.
  EXPECT_EQ(
      error_of(std::string(kHead) + "steps:\n  - id: a\n    kind: command\n    check: 'true'\n    aply: x\n"),
      "module.yaml:5:5: step 'a' needs 'apply'\n"
      "module.yaml:8:5: unknown key 'aply' in a command step (known: id, title, title_fr, kind, hosts, when, "
      "notify, "
      "timeout, check, apply, stdin, stdin_template, check_stdin, check_stdin_template, rolling)");
  EXPECT_NE(error_of(std::string(kHead) + "stepz: []\n").find("module.yaml:4:1: unknown key 'stepz'"),
            std::string::npos);
}

const char* kContainer =
    "images: {r: 'redis:7.4.7'}\nsteps:\n  - id: c\n    kind: container\n    image: r\n    name: r\n    "
    "run_as: x\n";

TEST(ModuleLoader, RollingIsReadOnAContainerStep) {
  auto m = parse_module(std::string(kHead) + kContainer +
                            "    rolling:\n      primary_check: kbz-redis-cli is-master\n"
                            "      before_primary: kbz-redis-cli failover\n      ready: kbz-redis-cli ping\n"
                            "      ready_timeout: 30\n",
                        "module.yaml");
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(m->steps[0].rolling);
  EXPECT_EQ(m->steps[0].rolling->primary_check, "kbz-redis-cli is-master");
  EXPECT_EQ(m->steps[0].rolling->before_primary, "kbz-redis-cli failover");
  EXPECT_EQ(m->steps[0].rolling->ready, "kbz-redis-cli ping");
  EXPECT_EQ(m->steps[0].rolling->ready_timeout_s, 30);

  auto bare = parse_module(std::string(kHead) + kContainer + "    rolling: {}\n", "module.yaml");
  ASSERT_TRUE(bare) << bare.error().message;
  ASSERT_TRUE(bare->steps[0].rolling) << "rolling: {} = one at a time in inventory order";
  EXPECT_EQ(bare->steps[0].rolling->ready_timeout_s, 120);
  auto none = parse_module(std::string(kHead) + kContainer, "module.yaml");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->steps[0].rolling);
}

TEST(ModuleLoader, RollingMistakesNameTheLine) {
  EXPECT_EQ(
      error_of(std::string(kHead) + "steps:\n  - id: a\n    kind: wait\n    check: 'true'\n    timeout: 5\n"
                                    "    rolling: {ready: 'true'}\n"),
      "module.yaml:9:14: 'rolling' does not apply to a wait step");
  EXPECT_EQ(error_of(std::string(kHead) +
                     "images: {r: 'redis:7.4.7'}\nsteps:\n  - {id: i, kind: image, image: r, rolling: {}}\n"),
            "module.yaml:6:45: 'rolling' does not apply to an image step");
  EXPECT_EQ(error_of(std::string(kHead) + kContainer + "    rolling:\n      primary: x\n"),
            "module.yaml:12:7: unknown key 'primary' in rolling (known: primary_check, rank, before_primary, "
            "ready, ready_timeout)");
  EXPECT_EQ(error_of(std::string(kHead) + kContainer + "    rolling: {ready_timeout: 0}\n"),
            "module.yaml:11:30: step 'c': rolling.ready_timeout must be 1..3600 s");
  EXPECT_EQ(error_of(std::string(kHead) + kContainer + "    rolling: true\n"),
            "module.yaml:11:14: step 'c': rolling must be a mapping (may be empty: {})");
  EXPECT_EQ(error_of(std::string(kHead) + kContainer + "    rolling: {before_primary: x}\n"),
            "module.yaml:11:31: step 'c': rolling.before_primary needs rolling.primary_check");
}

TEST(ModuleLoader, DuplicateStepIdIsAnError) {
  const auto yaml = std::string(kHead) +
                    "steps:\n  - {id: a, kind: command, check: 'true', apply: 'true'}\n"
                    "  - {id: a, kind: command, check: 'true', apply: 'true'}\n";
  EXPECT_EQ(error_of(yaml), "module.yaml:6:10: step id 'a' is used twice");
}

TEST(ModuleLoader, NotifyMustNameAHandler) {
  const auto yaml = std::string(kHead) +
                    "steps:\n  - {id: a, kind: command, check: 'true', apply: 'true', notify: [reload-x]}\n"
                    "handlers:\n  - {id: reload-sshd, command: 'true'}\n";
  EXPECT_EQ(error_of(yaml), "module.yaml:5:67: step 'a' notifies 'reload-x', which is not a handler");
}

TEST(ModuleLoader, KindSpecificRequiredFields) {
  EXPECT_NE(error_of(std::string(kHead) + "steps:\n  - {id: a, kind: command, check: 'true'}\n")
                .find("step 'a' needs 'apply'"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "steps:\n  - {id: f, kind: file, path: /etc/x}\n")
                .find("exactly one of 'template' or 'content'"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "steps:\n  - {id: f, kind: file, path: etc/x, content: x}\n")
                .find("path must be absolute"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "steps:\n  - {id: p, kind: packages, packages: []}\n")
                .find("non-empty 'packages'"),
            std::string::npos);
  EXPECT_NE(
      error_of(std::string(kHead) + "steps:\n  - {id: p, kind: packages, packages: ['curl; rm -rf /']}\n")
          .find("is not a package name"),
      std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "steps:\n  - {id: s, kind: service, service: x, state: running}\n")
                .find("state must be started or stopped"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) + "steps:\n  - {id: w, kind: wait}\n").find("needs 'check'"),
            std::string::npos);
  EXPECT_NE(
      error_of(std::string(kHead) + "steps:\n  - {id: c, kind: command, check: x, apply: y, packages: [a]}\n")
          .find("'packages' does not apply to a command step"),
      std::string::npos);
  EXPECT_NE(error_of(std::string(kHead) +
                     "steps:\n  - {id: c, kind: command, check: x, apply: y, when: 'os is ubuntu'}\n")
                .find("when must look like"),
            std::string::npos);
}

TEST(ModuleLoader, ContainerKindNeedsAnImage) {  // container/image kinds: tests/unit/container_step_test.cpp
  EXPECT_EQ(error_of(std::string(kHead) + "steps:\n  - {id: redis, kind: container}\n"),
            "module.yaml:5:5: step 'redis' needs 'image'\nmodule.yaml:5:5: step 'redis' needs 'name'\n"
            "module.yaml:5:5: step 'redis' needs 'run_as'");
}

TEST(ModuleLoader, YamlSyntaxErrorsCarryThePosition) {
  const auto e = error_of("number: 3\nid: [unclosed\n");
  EXPECT_TRUE(e.starts_with("module.yaml:")) << e;
}

TEST(ModuleLoader, TemplateMustExistInTheFolder) {
  // parse_module cannot see templates/, load_module does: use a folder module with a missing template.
  auto m = parse_module(
      std::string(kHead) + "steps:\n  - {id: f, kind: file, path: /etc/x, template: nope.mustache}\n",
      "module.yaml");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->steps[0].kind->doc_file(m->steps[0])->source, "`nope.mustache`");
}

TEST(ModuleLoader, VerifyAndFailoverSections) {
  auto m = parse_module(
      std::string(kHead) +
          "verify:\n  - {id: ufw, title_fr: Pare-feu, command: ufw status, expect_regex: 'Status: active',"
          " severity: warning}\n"
          "failover:\n  - {id: f1, kind: redis-sentinel-failover, params: {master: redis-01}}\n",
      "module.yaml");
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->checks.size(), 1u);
  EXPECT_EQ(m->checks[0].severity, Severity::Warning);
  EXPECT_EQ(m->failover.at(0).params.at("master"), "redis-01");
  EXPECT_NE(error_of(std::string(kHead) + "verify:\n  - {id: x, command: y, expect_regex: '(['}\n")
                .find("not a valid regex"),
            std::string::npos);
}

TEST(ModuleLoader, EmbeddedModulesAllLoad) {
  // Whatever modules/ holds at build time must load: a broken module.yaml fails here, not on a server.
  auto all = load_all_modules(ModuleSource{});
  ASSERT_TRUE(all) << all.error().message;
  for (const auto& m : *all) EXPECT_GT(m.steps.size(), 0u) << m.id;
}

}  // namespace
