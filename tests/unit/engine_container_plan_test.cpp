// Plan of a container whose read-only mounted config an earlier file step rewrites: apply will recreate it
// (its re-check sees the new file), so plan must say so. Runs the engine through the LOCAL runner with the
// fake docker of fake_docker.hpp and tests/fixtures/modules/91-containers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine_test_util.hpp"
#include "fake_docker.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/engine/steps/container.hpp"
#include "kbz/runners/local_connection.hpp"

namespace fs = std::filesystem;
using namespace kbz;

namespace {

using test::step;

// The container step's mounts replaced (its spec is the kind's own struct).
void set_mounts(Step& s, std::vector<std::string> mounts) {
  auto spec = std::make_shared<ContainerStepSpec>(s.spec_as<ContainerStepSpec>());
  spec->mounts = std::move(mounts);
  s.spec = std::move(spec);
}

class ContainerPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::fresh_test_dir("kbz-cplan");
    docker_ = std::make_unique<test::FakeDocker>(root_);
    auto m = load_module(91, ModuleSource{std::string(KBZ_FIXTURES_DIR) + "/modules"});
    ASSERT_TRUE(m) << m.error().message;
    module_ = *m;
    host_.hostname = "web-01";
    host_.private_ip = "10.0.0.5";
    host_.role = "app";
  }
  void TearDown() override {
    docker_.reset();
    fs::remove_all(root_);
  }

  HostRun run(RunMode mode, const std::string& version) {
    HostJob j;
    j.module = &module_;
    j.mode = mode;
    j.context.host = host_;
    j.context.all_hosts = {host_};
    j.context.settings = {{"test.root", root_.string()}, {"test.version", version}};
    j.lock = HostLock{(root_ / "host.lock").string(), "run-1", "installer", 42, "2026-01-01T00:00:00Z"};
    LocalConnection conn(host_);
    return run_host(conn, j);
  }

  std::string conf() const { return (root_ / "web-01" / "conf" / "app.conf").string(); }

  fs::path root_;
  std::unique_ptr<test::FakeDocker> docker_;
  Module module_;
  Host host_;
};

TEST_F(ContainerPlanTest, AFileRewrittenInAMountedFolderMakesPlanSayRecreate) {
  const HostRun first = run(RunMode::Apply, "1");
  ASSERT_TRUE(first.error.empty()) << first.error;
  ASSERT_EQ(step(first, "app").status, StepStatus::Changed) << step(first, "app").message;
  EXPECT_EQ(step(first, "app").message, "create app-web-01 from app:1.0");
  EXPECT_EQ(step(run(RunMode::Plan, "1"), "app").status, StepStatus::Ok)
      << "nothing changes: nothing to recreate";

  const HostRun plan = run(RunMode::Plan, "2");
  EXPECT_EQ(step(plan, "app-conf").status, StepStatus::WouldChange);
  EXPECT_EQ(step(plan, "app").status, StepStatus::WouldChange) << step(plan, "app").message;
  EXPECT_EQ(step(plan, "app").message, "recreate app-web-01: mounted config " + conf() + " changes");
  EXPECT_EQ(docker_->log(), "run app-web-01\n") << "plan changed nothing";

  // And apply does what plan said.
  const HostRun apply = run(RunMode::Apply, "2");
  EXPECT_EQ(step(apply, "app").status, StepStatus::Changed);
  EXPECT_EQ(step(apply, "app").message, "recreate app-web-01: mounted config changed");
  EXPECT_EQ(docker_->log(), "run app-web-01\nstop app-web-01\nrm app-web-01\nrun app-web-01\n");
}

TEST_F(ContainerPlanTest, AFileMountedItselfMakesPlanSayRecreate) {
  set_mounts(module_.steps[1],
             {"{{settings.test.root}}/{{host.hostname}}/conf/app.conf:/etc/app/app.conf:ro"});
  ASSERT_TRUE(run(RunMode::Apply, "1").error.empty());
  const HostRun plan = run(RunMode::Plan, "2");
  EXPECT_EQ(step(plan, "app").status, StepStatus::WouldChange);
  EXPECT_EQ(step(plan, "app").message, "recreate app-web-01: mounted config " + conf() + " changes");
}

TEST_F(ContainerPlanTest, AReadWriteMountIsNotAConfig) {
  set_mounts(module_.steps[1], {"{{settings.test.root}}/{{host.hostname}}/conf:/data"});
  ASSERT_TRUE(run(RunMode::Apply, "1").error.empty());
  const HostRun plan = run(RunMode::Plan, "2");
  EXPECT_EQ(step(plan, "app-conf").status, StepStatus::WouldChange);
  EXPECT_EQ(step(plan, "app").status, StepStatus::Ok)
      << "data is not part of the spec: apply does not recreate";
}

// Found on the lab: the first plan of module 4 on fresh hosts stopped at the container ("image is not on the
// host") although the image step before it would load the image. A missing prerequisite that an earlier step
// would provide is a planned change; with nothing pending before it, it stays a failure.
TEST_F(ContainerPlanTest, OnAFreshHostThePlanShowsTheContainerAfterItsPendingPrerequisites) {
  const HostRun plan = run(RunMode::Plan, "1");
  EXPECT_EQ(step(plan, "app-conf").status, StepStatus::WouldChange);
  EXPECT_EQ(step(plan, "app").status, StepStatus::WouldChange) << step(plan, "app").message;
  EXPECT_NE(step(plan, "app").message.find("runs once the steps before it ran"), std::string::npos);
  EXPECT_NE(step(plan, "app").message.find("does not exist"), std::string::npos)
      << "says what it could not check";
  EXPECT_EQ(step(plan, "after").status, StepStatus::WouldChange) << "the plan goes on to the last step";
  EXPECT_EQ(docker_->log(), "") << "plan changed nothing";

  ASSERT_TRUE(run(RunMode::Apply, "1").error.empty());
  set_mounts(module_.steps[1], {"/nonexistent-kbz-test/app.conf:/etc/app/app.conf:ro"});
  const HostRun nothing_pending = run(RunMode::Plan, "1");
  EXPECT_EQ(step(nothing_pending, "app").status, StepStatus::Failed) << step(nothing_pending, "app").message;
}

}  // namespace
