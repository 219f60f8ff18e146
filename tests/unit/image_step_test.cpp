// The image step kind: registry pull vs air-gap bundle (index.tsv as the lab writes it), skip when the ID
// matches.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kbz/engine/step_kind.hpp"
#include "kbz/engine/steps/image.hpp"

using namespace kbz;
namespace fs = std::filesystem;

namespace {

const std::string kId = "sha256:4515c2f3a5458f008e5509340bf009918301a41fe44bd79326f60cde83a51f07";

const Module& image_module() {
  static const Module m = [] {
    auto parsed = parse_module(
        "number: 4\nid: t\ntitle: t\nimages: {redis: 'redis:7.4.7'}\n"
        "steps:\n  - {id: redis-image, kind: image, image: redis}\n",
        "t.yaml");
    EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
    return parsed ? *parsed : Module{};
  }();
  return m;
}

Step image_step() { return image_module().steps.at(0); }

// The kind through the step-kind table, as the engine calls it.
Result<std::string> image_render_check(const Step& s, const TemplateContext& ctx) {
  return render_check(s, image_module(), ctx);
}
Result<StepDecision> image_decide(const Step& s, int exit_status, const std::string& output,
                                  const TemplateContext& ctx) {
  return decide(s, image_module(), CheckOutput{exit_status, output}, ctx);
}

// A bundle folder like .lab/bundle: index.tsv + the archive it names (absolute path, as lab.sh writes it).
fs::path make_bundle(const std::string& archive_path_in_index) {
  const fs::path dir = fs::temp_directory_path() / ("kbz-bundle-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "redis.tar") << std::string(2'000'000, 'x');
  std::ofstream(dir / "index.tsv")
      << "haproxy\tkbz-lab/haproxy:2.6.12\tsha256:e6694feb845a\t/elsewhere/haproxy.tar\n"
      << "redis\tkbz-lab/redis:7.0.15\t" << kId << "\t" << archive_path_in_index << "\n";
  return dir;
}

TemplateContext ctx_with(const std::string& bundle_dir) {
  TemplateContext ctx;
  ctx.settings["images.redis"] = "kbz-lab/redis:7.0.15";
  ctx.settings["image_bundle_dir"] = bundle_dir;
  return ctx;
}

TEST(ImageStep, TemplatesSeeTheModulesImagesKbzYamlWins) {
  Module m;
  m.images = {{"minio", "minio/minio:RELEASE.2024-10-02T17-50-41Z"}, {"mc", "minio/mc:RELEASE.1"}};
  std::map<std::string, std::string> settings = {{"images.mc", "registry.local/mc:RELEASE.2"}};
  add_module_images(settings, m);
  EXPECT_EQ(settings.at("images.minio"), "minio/minio:RELEASE.2024-10-02T17-50-41Z");
  EXPECT_EQ(settings.at("images.mc"), "registry.local/mc:RELEASE.2");
}

}  // namespace

TEST(ImageStep, CheckAsksDockerForTheImageId) {
  TemplateContext ctx;
  auto check = image_render_check(image_step(), ctx);
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_NE(
      check->find(
          "kbz_id=$(docker image inspect -f '{{.Id}}' 'redis:7.4.7' 2>/dev/null) && [ -n \"$kbz_id\" ]"),
      std::string::npos)
      << *check;
}

TEST(ImageStep, BundleIndexIsReadAndAMovedFolderStillFindsTheArchive) {
  const auto dir = make_bundle("/work/wt-lab/.lab/bundle-that-moved/redis.tar");
  auto entries = read_bundle_index(dir.string());
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  auto e = find_in_bundle(*entries, "kbz-lab/redis:7.0.15");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->id, kId);
  EXPECT_EQ(e->file, (dir / "redis.tar").string());
  fs::remove_all(dir);
}

TEST(ImageStep, HostWithTheBundledIdIsSkipped) {
  const auto dir = make_bundle("redis.tar");
  auto d = image_decide(image_step(), 0, kId + "\n", ctx_with(dir.string()));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(d->change);
  EXPECT_TRUE(d->uploads.empty());
  fs::remove_all(dir);
}

TEST(ImageStep, MissingOrDifferentImageIsUploadedThenLoadedAndItsIdVerified) {
  const auto dir = make_bundle("redis.tar");
  for (const std::string have :
       {"absent", "sha256:0000000000000000000000000000000000000000000000000000000000000000"}) {
    auto d = image_decide(image_step(), 0, have + "\n", ctx_with(dir.string()));
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_TRUE(d->change);
    ASSERT_EQ(d->uploads.size(), 1u);
    EXPECT_EQ(d->uploads[0].local, dir / "redis.tar");
    EXPECT_EQ(d->uploads[0].remote_path, "/var/tmp/kbz-image-redis.tar");
    EXPECT_EQ(d->uploads[0].mode, 0600);
    EXPECT_NE(d->apply.command.find("docker load -i '/var/tmp/kbz-image-redis.tar'"), std::string::npos)
        << d->apply.command;
    EXPECT_NE(d->apply.command.find("[ \"$kbz_id\" = '" + kId + "' ]"), std::string::npos)
        << d->apply.command;
    EXPECT_NE(d->message.find("from the bundle (2 MB, redis.tar)"), std::string::npos) << d->message;
  }
  fs::remove_all(dir);
}

TEST(ImageStep, WithoutBundleAnAbsentImageIsPulledAndAPresentOneKept) {
  TemplateContext ctx;
  auto pull = image_decide(image_step(), 0, "absent\n", ctx);
  ASSERT_TRUE(pull);
  EXPECT_TRUE(pull->change);
  EXPECT_TRUE(pull->uploads.empty());
  EXPECT_NE(pull->apply.command.find("docker pull -q 'redis:7.4.7'"), std::string::npos);
  EXPECT_NE(pull->apply.command.find("image_bundle_dir"), std::string::npos)
      << "the failure must say how to air-gap";
  // Older check output: docker printed an empty line for the missing image before "absent".
  auto empty_first = image_decide(image_step(), 0, "\nabsent\n", ctx);
  ASSERT_TRUE(empty_first);
  EXPECT_TRUE(empty_first->change);
  EXPECT_NE(empty_first->message.find("absent"), std::string::npos) << empty_first->message;
  auto keep = image_decide(image_step(), 0, kId + "\n", ctx);
  ASSERT_TRUE(keep);
  EXPECT_FALSE(keep->change);
}

TEST(ImageStep, BadIndexAndMissingDockerAreClearErrors) {
  const fs::path dir = fs::temp_directory_path() / ("kbz-bundle-bad-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "index.tsv") << "redis kbz-lab/redis:7.0.15 nothex redis.tar\n";
  auto bad = image_decide(image_step(), 0, "absent\n", ctx_with(dir.string()));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("index.tsv:1: expected 4 tab-separated fields"), std::string::npos)
      << bad.error().message;
  fs::remove_all(dir);
  auto no_docker = image_decide(image_step(), 3, "docker is not installed\n", TemplateContext{});
  ASSERT_FALSE(no_docker);
  EXPECT_NE(no_docker.error().message.find("docker is not installed"), std::string::npos);
}
