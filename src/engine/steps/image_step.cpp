#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "kbz/core/text.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/engine/steps/image.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace fs = std::filesystem;
namespace {

struct ImageSpec : StepSpec {
  std::string image;  // an entry of images:
};

// Go template for docker -f, kept out of any mustache rendering.
constexpr const char* kIdFormat = "'{{.Id}}'";

class ImageKind final : public StepKind {
 public:
  std::string_view name() const override { return "image"; }
  std::vector<std::string> keys() const override { return {"image"}; }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto spec = std::make_shared<ImageSpec>();
    spec->image = f.required("image");
    if (!spec->image.empty() && !std::regex_match(spec->image, std::regex("[a-z0-9][a-z0-9_-]*")))
      f.error("image", fmt::format("step '{}': image must name an entry of images: (a-z 0-9 - _)", step.id));
    step.spec = std::move(spec);
  }

  Result<std::string> check(const Step& step, const Module& module,
                            const TemplateContext& ctx) const override {
    auto ref = image_ref(step.spec_as<ImageSpec>().image, module, ctx);
    if (!ref) return ref;
    return fmt::format(
        "command -v docker >/dev/null 2>&1 || {{ echo 'docker is not installed'; exit 3; }}; "
        // A missing image still prints an empty line before failing: print the ID only when there is one.
        "kbz_id=$(docker image inspect -f {} {} 2>/dev/null) && [ -n \"$kbz_id\" ] && echo \"$kbz_id\" || "
        "echo absent",
        kIdFormat, shell_quote(*ref));
  }

  Result<StepDecision> decide(const Step& step, const Module& module, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    auto ref = image_ref(step.spec_as<ImageSpec>().image, module, ctx);
    if (!ref) return std::unexpected(ref.error());
    if (c.exit_status != 0)
      return fail(ErrorKind::Remote, fmt::format("step '{}': {}", step.id, first_line(c.output)));
    std::string have = first_line(c.output);
    if (have.empty()) have = "absent";
    StepDecision d;
    const auto bundle_dir =
        ctx.settings.contains("image_bundle_dir") ? ctx.settings.at("image_bundle_dir") : "";
    std::optional<BundleEntry> entry;
    if (!bundle_dir.empty()) {
      auto entries = read_bundle_index(bundle_dir);
      if (!entries) return std::unexpected(entries.error());
      entry = find_in_bundle(*entries, *ref);
    }
    if (entry) {
      if (have == entry->id) return d;
      std::error_code ec;
      const auto size = fs::file_size(entry->file, ec);
      if (ec)
        return fail(ErrorKind::Input, fmt::format("step '{}': bundle archive {} for {}: {}", step.id,
                                                  entry->file, *ref, ec.message()));
      d.change = true;
      d.message =
          fmt::format("{} {} -> load {} from the bundle ({} MB, {})", *ref,
                      have == "absent" ? "absent" : "ID " + have.substr(0, 19), entry->id.substr(0, 19),
                      size / 1000000, fs::path(entry->file).filename().string());
      const std::string remote = kRemoteImagePrefix + fs::path(entry->file).filename().string();
      d.uploads.push_back(UploadRequest{entry->file, remote, 0600, "root:root", Privilege::Root});
      d.apply.command = fmt::format(
          "set -e; docker load -i {0} >/dev/null; rm -f {0}; "
          "kbz_id=$(docker image inspect -f {1} {2}); "
          "[ \"$kbz_id\" = {3} ] || {{ echo \"loaded {2} has ID $kbz_id, the bundle index says {3}\"; exit "
          "1; }}",
          shell_quote(remote), kIdFormat, shell_quote(*ref), shell_quote(entry->id));
      return d;
    }
    if (have != "absent") return d;  // no expected ID without a bundle: a pinned tag is present
    d.change = true;
    d.message = fmt::format("{} absent -> docker pull", *ref);
    d.apply.command = fmt::format(
        "docker pull -q {0} || {{ echo 'cannot pull {0}: an air-gapped host needs image_bundle_dir in "
        "kbz.yaml "
        "(docker save archives + index.tsv)'; exit 1; }}",
        shell_quote(*ref));
    return d;
  }

  std::string describe_fr(const Step& step, const Module& module) const override {
    const auto& image = step.spec_as<ImageSpec>().image;
    const auto d = module.images.find(image);
    return fmt::format("{} (défaut {}), téléchargée ou chargée depuis `image_bundle_dir`",
                       md_code("images." + image),
                       md_code(d == module.images.end() ? std::string{} : d->second));
  }
};

}  // namespace

Result<std::string> image_ref(const std::string& name, const Module& module, const TemplateContext& ctx) {
  const auto it = ctx.settings.find("images." + name);
  if (it != ctx.settings.end() && !it->second.empty()) return it->second;
  if (const auto d = module.images.find(name); d != module.images.end()) return d->second;
  return fail(ErrorKind::Input,
              fmt::format("no image reference for '{}' (set images.{} in kbz.yaml)", name, name));
}

void add_module_images(std::map<std::string, std::string>& settings, const Module& module) {
  for (const auto& [name, ref] : module.images) {
    auto& v = settings["images." + name];
    if (v.empty()) v = ref;
  }
}

Result<std::vector<BundleEntry>> read_bundle_index(const std::string& dir) {
  const fs::path index = fs::path(dir) / "index.tsv";
  std::ifstream in(index);
  if (!in) return fail(ErrorKind::Input, fmt::format("image bundle: cannot read {}", index.string()));
  std::vector<BundleEntry> out;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const auto f = split(line, '\t');
    if (f.size() != 4 || f[1].empty() || !f[2].starts_with("sha256:") || f[3].empty())
      return fail(ErrorKind::Input, fmt::format("{}:{}: expected 4 tab-separated fields: name, reference, "
                                                "image ID (sha256:...), archive file",
                                                index.string(), n));
    BundleEntry e{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3])};
    const fs::path file(e.file);
    if (file.is_relative())
      e.file = (fs::path(dir) / file).string();
    else if (!fs::exists(file))
      e.file = (fs::path(dir) / file.filename()).string();  // bundle folder moved
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<BundleEntry> find_in_bundle(const std::vector<BundleEntry>& entries, const std::string& ref) {
  for (const auto& e : entries)
    if (e.ref == ref) return e;
  return std::nullopt;
}

const StepKind& image_step_kind() {
  static const ImageKind kind;
  return kind;
}

}  // namespace kbz
