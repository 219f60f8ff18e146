// The container step kind: check script, decisions on recorded check output, the docker run it builds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "kbz/core/secret.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/engine/steps/container.hpp"
#include "kbz/engine/steps/image.hpp"

using namespace kbz;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(fs::path(KBZ_FIXTURES_DIR) / "redis" / name);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

const Module& redis_module() {
  static const Module m = [] {
    auto loaded = load_module(4, ModuleSource{std::string(KBZ_SOURCE_DIR) + "/modules"});
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().message);
    return loaded ? *loaded : Module{};
  }();
  return m;
}

Step redis_step() {
  for (const auto& s : redis_module().steps)
    if (s.id == "redis-container") return s;
  ADD_FAILURE() << "no redis-container step";
  return {};
}

const ContainerStepSpec& spec_of(const Step& s) { return s.spec_as<ContainerStepSpec>(); }

// The kind through the step-kind table, as the engine calls it.
Result<std::string> container_render_check(const Step& s, const TemplateContext& ctx) {
  return render_check(s, redis_module(), ctx);
}
Result<StepDecision> container_decide(const Step& s, int exit_status, const std::string& output,
                                      const TemplateContext& ctx) {
  return decide(s, redis_module(), CheckOutput{exit_status, output}, ctx);
}

TemplateContext context() {
  TemplateContext ctx;
  ctx.host.hostname = "redis-01";
  ctx.host.private_ip = "10.0.0.123";
  ctx.host.role = "redis";
  ctx.host.subrole = "master";
  return ctx;
}

std::string spec_label(const std::string& apply) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(apply, m, std::regex("--label kbz\\.spec=([0-9a-f]{64})"))) << apply;
  return m.size() > 1 ? m[1].str() : "";
}
std::string parts_label(const std::string& apply) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(apply, m, std::regex("'kbz\\.spec\\.parts=([^']*)'"))) << apply;
  return m.size() > 1 ? m[1].str() : "";
}

// The check output of the same host once the container exists with these labels.
std::string with_container(std::string out, const std::string& state, const std::string& spec,
                           const std::string& parts) {
  out = std::regex_replace(out, std::regex("state=absent\n"), "");
  return out + "state=" + state + "\nspec=" + spec + "\nparts=" + parts + "\n";
}

}  // namespace

TEST(ContainerStep, LoaderReadsTheModuleFieldsAndPinnedDefault) {
  const Step s = redis_step();
  EXPECT_EQ(s.kind_name(), "container");
  EXPECT_EQ(spec_of(s).name, "redis");
  EXPECT_EQ(spec_of(s).image, "redis");
  EXPECT_EQ(image_ref("redis", redis_module(), TemplateContext{}).value(), "redis:7.4.7");
  EXPECT_EQ(spec_of(s).run_as, "kbz-redis");
  ASSERT_EQ(spec_of(s).mounts.size(), 3u);
  EXPECT_EQ(spec_of(s).restart, "unless-stopped");
}

TEST(ContainerStep, CheckHashesOnlyReadOnlyMountsAndReadsTheLabels) {
  auto check = container_render_check(redis_step(), context());
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_NE(check->find("docker image inspect -f '{{.Id}}' 'redis:7.4.7'"), std::string::npos) << *check;
  EXPECT_NE(check->find("'/opt/keybuzz/redis/conf/redis.conf'"), std::string::npos);
  EXPECT_EQ(check->find("'/opt/keybuzz/redis/data'"), std::string::npos)
      << "a data folder is not part of the spec";
  EXPECT_NE(check->find("kbz.spec.parts"), std::string::npos);
}

TEST(ContainerStep, AbsentContainerIsCreatedWithHostNetworkUserLimitsAndReadOnlyConfigs) {
  auto d = container_decide(redis_step(), 0, fixture("container_check_absent.out"), context());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->change);
  EXPECT_EQ(d->message, "create redis from redis:7.4.7");
  const auto& cmd = d->apply.command;
  for (const char* want :
       {"docker run -d --name 'redis' --network host", "--user \"$(id -u 'kbz-redis'):$(id -g 'kbz-redis')\"",
        "--restart 'unless-stopped'", "--log-opt max-size='20m' --log-opt max-file=3",
        "-v '/opt/keybuzz/redis/conf/redis.conf:/etc/kbz/redis.conf:ro'",
        "-v '/opt/keybuzz/redis/data:/data'", "'redis:7.4.7' 'sh' '/etc/kbz/redis-start.sh'",
        "docker logs --tail 20"})
    EXPECT_NE(cmd.find(want), std::string::npos) << want << "\n" << cmd;
}

TEST(ContainerStep, UnchangedRunningContainerIsLeftAlone) {
  const auto base = fixture("container_check_absent.out");
  auto created = container_decide(redis_step(), 0, base, context());
  ASSERT_TRUE(created);
  const auto out = with_container(base, "running", spec_label(created->apply.command),
                                  parts_label(created->apply.command));
  auto again = container_decide(redis_step(), 0, out, context());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->change) << again->message;
}

TEST(ContainerStep, ChangedConfigRecreatesAndSaysWhy) {
  const auto base = fixture("container_check_absent.out");
  auto created = container_decide(redis_step(), 0, base, context());
  ASSERT_TRUE(created);
  auto out = with_container(base, "running", spec_label(created->apply.command),
                            parts_label(created->apply.command));
  out = std::regex_replace(out, std::regex("0f9b2a1e"), "1f9b2a1e");  // redis.conf re-rendered
  auto d = container_decide(redis_step(), 0, out, context());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->change);
  EXPECT_EQ(d->message, "recreate redis: mounted config changed");
  EXPECT_NE(d->apply.command.find("docker stop -t 30 'redis'"), std::string::npos) << d->apply.command;
  EXPECT_NE(d->apply.command.find("docker rm 'redis'"), std::string::npos);

  auto image = std::regex_replace(with_container(base, "running", spec_label(created->apply.command),
                                                 parts_label(created->apply.command)),
                                  std::regex("sha256:4515"), "sha256:9999");
  auto di = container_decide(redis_step(), 0, image, context());
  ASSERT_TRUE(di);
  EXPECT_EQ(di->message, "recreate redis: image changed");
}

TEST(ContainerStep, StoppedContainerWithSameSpecIsOnlyStarted) {
  const auto base = fixture("container_check_absent.out");
  auto created = container_decide(redis_step(), 0, base, context());
  ASSERT_TRUE(created);
  auto d = container_decide(
      redis_step(), 0,
      with_container(base, "exited", spec_label(created->apply.command), parts_label(created->apply.command)),
      context());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->message, "start redis (was exited)");
  EXPECT_EQ(d->apply.command.find("docker run"), std::string::npos);
  EXPECT_NE(d->apply.command.find("docker start 'redis'"), std::string::npos);
  EXPECT_FALSE(d->existing) << "starting a stopped container restarts nothing running: never rolled";
}

TEST(ContainerStep, OnlyARunningContainerIsRolled) {
  const auto base = fixture("container_check_absent.out");
  auto created = container_decide(redis_step(), 0, base, context());
  ASSERT_TRUE(created);
  EXPECT_FALSE(created->existing);
  const auto changed = [&](const std::string& state) {
    // A spec label that no longer matches: the container must be recreated.
    return container_decide(redis_step(), 0, with_container(base, state, "0000", "image=0 run=0 config=0"),
                            context());
  };
  for (const char* state : {"created", "exited", "dead"}) {
    auto d = changed(state);
    ASSERT_TRUE(d) << state;
    EXPECT_TRUE(d->change) << state;
    EXPECT_FALSE(d->existing) << state << ": nothing running to protect, not rolled";
  }
  auto running = changed("running");
  ASSERT_TRUE(running);
  EXPECT_TRUE(running->existing) << "recreating a running container is what rolling: rolls";
}

TEST(ContainerStep, MissingImageAccountOrConfigIsAClearFailure) {
  const auto base = fixture("container_check_absent.out");
  auto no_image = container_decide(
      redis_step(), 0, std::regex_replace(base, std::regex("image_id=.*\n"), "image_id=\n"), context());
  ASSERT_FALSE(no_image);
  EXPECT_NE(no_image.error().message.find("image redis:7.4.7 is not on the host"), std::string::npos);
  auto no_user = container_decide(redis_step(), 0,
                                  std::regex_replace(base, std::regex("user=.*\n"), "user=:\n"), context());
  ASSERT_FALSE(no_user);
  EXPECT_NE(no_user.error().message.find("host account 'kbz-redis' does not exist"), std::string::npos);
  auto no_file = container_decide(
      redis_step(), 0, std::regex_replace(base, std::regex("file 0f9b\\S+"), "file absent"), context());
  ASSERT_FALSE(no_file);
  EXPECT_NE(no_file.error().message.find("redis.conf does not exist"), std::string::npos);
}

TEST(ContainerStep, ImageFromKbzYamlWinsOverTheModuleDefault) {
  auto ctx = context();
  ctx.settings["images.redis"] = "kbz-lab/redis:7.0.15";
  auto d = container_decide(redis_step(), 0, fixture("container_check_absent.out"), ctx);
  ASSERT_TRUE(d);
  EXPECT_NE(d->apply.command.find("'kbz-lab/redis:7.0.15' 'sh'"), std::string::npos);
}

TEST(ContainerStep, SecretsAreRefusedInEnvAndCommand) {
  Step s = redis_step();
  auto with_env = std::make_shared<ContainerStepSpec>(spec_of(s));
  with_env->env["REDIS_PASSWORD"] = "{{credentials.REDIS_PASSWORD}}";
  s.spec = with_env;
  auto ctx = context();
  ctx.credentials["REDIS_PASSWORD"] = "s3cret-value-xyz";
  Masker::global().add("s3cret-value-xyz");
  auto d = container_decide(s, 0, fixture("container_check_absent.out"), ctx);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("secret would appear in argv"), std::string::npos) << d.error().message;
}

TEST(ContainerStep, MountsAreParsedStrictly) {
  auto ro = parse_mount("/a/b.conf:/etc/b.conf:ro");
  ASSERT_TRUE(ro);
  EXPECT_TRUE(ro->read_only);
  EXPECT_FALSE(parse_mount("/a:/b")->read_only);
  EXPECT_FALSE(parse_mount("relative:/b"));
  EXPECT_FALSE(parse_mount("/a:/b:rx"));
  EXPECT_FALSE(parse_mount("/a"));
}

TEST(ContainerStep, WatchedPathsAreTheRenderedReadOnlyMountSources) {
  auto d = container_decide(redis_step(), 0, fixture("container_check_absent.out"), context());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->watch_message, "recreate redis: mounted config");
  EXPECT_EQ(d->watched_paths, (std::vector<std::string>{"/opt/keybuzz/redis/conf/redis.conf",
                                                        "/opt/keybuzz/redis/conf/redis-start.sh"}));
}

TEST(ContainerStep, AMountCoversItselfAndWhatItsFolderHolds) {
  EXPECT_TRUE(mount_covers("/opt/x/redis.conf", "/opt/x/redis.conf"));
  EXPECT_TRUE(mount_covers("/opt/x/conf", "/opt/x/conf/redis.conf"));
  EXPECT_TRUE(mount_covers("/opt/x/conf/", "/opt/x/conf/sub/a.conf"));
  EXPECT_TRUE(mount_covers("/opt/x//conf", "/opt/x/conf/./a.conf"));
  EXPECT_FALSE(mount_covers("/opt/x/conf", "/opt/x/conf2/a.conf")) << "a shared prefix is not a folder";
  EXPECT_FALSE(mount_covers("/opt/x/conf/a.conf", "/opt/x/conf"));
  EXPECT_FALSE(mount_covers("/opt/x/a.conf", "/opt/x/b.conf"));
}

TEST(ContainerStep, LoaderRefusesContainerTyposAndUnpinnedDefaults) {
  const std::string head = "number: 9\nid: t\ntitle: t\n";
  auto typo = parse_module(head +
                               "images: {r: 'redis:7.4.7'}\nsteps:\n  - {id: c, kind: container, image: r, "
                               "name: r, run_as: x, mount: [/a:/b]}\n",
                           "t.yaml");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("unknown key 'mount'"), std::string::npos) << typo.error().message;
  auto latest = parse_module(head + "images: {r: 'redis:latest'}\n", "t.yaml");
  ASSERT_FALSE(latest);
  EXPECT_NE(latest.error().message.find("must be pinned"), std::string::npos) << latest.error().message;
  auto untagged = parse_module(head + "images: {r: 'registry:5000/redis'}\n", "t.yaml");
  ASSERT_FALSE(untagged);
  auto misplaced = parse_module(
      head + "steps:\n  - {id: c, kind: command, check: 'true', apply: 'true', run_as: x}\n", "t.yaml");
  ASSERT_FALSE(misplaced);
  EXPECT_NE(misplaced.error().message.find("'run_as' does not apply"), std::string::npos)
      << misplaced.error().message;
}
