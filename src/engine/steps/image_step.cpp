#include "kbz/engine/image_step.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kbz {
namespace fs = std::filesystem;
namespace {

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) out.push_back(line.substr(start, tab - start));
  out.push_back(line.substr(start));
  return out;
}

// Go template for docker -f, kept out of any mustache rendering.
constexpr const char* kIdFormat = "'{{.Id}}'";

}  // namespace

Result<std::string> step_image_ref(const Step& step, const TemplateContext& ctx) {
  const auto it = ctx.settings.find("images." + step.image);
  if (it != ctx.settings.end() && !it->second.empty()) return it->second;
  if (!step.default_image.empty()) return step.default_image;
  return fail(ErrorKind::Input, fmt::format("step '{}': no image reference for '{}' (set images.{} in kbz.yaml)",
                                            step.id, step.image, step.image));
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
    const auto f = split_tabs(line);
    if (f.size() != 4 || f[1].empty() || !f[2].starts_with("sha256:") || f[3].empty())
      return fail(ErrorKind::Input, fmt::format("{}:{}: expected 4 tab-separated fields: name, reference, "
                                                "image ID (sha256:...), archive file", index.string(), n));
    BundleEntry e{f[0], f[1], f[2], f[3]};
    const fs::path file(f[3]);
    if (file.is_relative()) e.file = (fs::path(dir) / file).string();
    else if (!fs::exists(file)) e.file = (fs::path(dir) / file.filename()).string();  // bundle folder moved
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<BundleEntry> find_in_bundle(const std::vector<BundleEntry>& entries, const std::string& ref) {
  for (const auto& e : entries)
    if (e.ref == ref) return e;
  return std::nullopt;
}

Result<std::string> image_render_check(const Step& step, const TemplateContext& ctx) {
  auto ref = step_image_ref(step, ctx);
  if (!ref) return ref;
  return fmt::format(
      "command -v docker >/dev/null 2>&1 || {{ echo 'docker is not installed'; exit 3; }}; "
      // A missing image still prints an empty line before failing: print the ID only when there is one.
      "kbz_id=$(docker image inspect -f {} {} 2>/dev/null) && [ -n \"$kbz_id\" ] && echo \"$kbz_id\" || echo absent",
      kIdFormat, shell_quote(*ref));
}

Result<StepDecision> image_decide(const Step& step, int check_exit, const std::string& check_output,
                                  const TemplateContext& ctx) {
  auto ref = step_image_ref(step, ctx);
  if (!ref) return std::unexpected(ref.error());
  if (check_exit != 0)
    return fail(ErrorKind::Remote, fmt::format("step '{}': {}", step.id, first_line(check_output)));
  std::string have = first_line(check_output);
  if (have.empty()) have = "absent";
  StepDecision d;
  d.apply.privilege = Privilege::Root;
  d.apply.timeout = Millis(static_cast<long long>(step.timeout_s) * 1000);

  const auto bundle_dir = ctx.settings.contains("image_bundle_dir") ? ctx.settings.at("image_bundle_dir") : "";
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
    if (ec) return fail(ErrorKind::Input, fmt::format("step '{}': bundle archive {} for {}: {}", step.id, entry->file, *ref, ec.message()));
    d.change = true;
    d.message = fmt::format("{} {} -> load {} from the bundle ({} MB, {})", *ref,
                            have == "absent" ? "absent" : "ID " + have.substr(0, 19), entry->id.substr(0, 19),
                            size / 1000000, fs::path(entry->file).filename().string());
    const std::string remote = kRemoteImagePrefix + fs::path(entry->file).filename().string();
    d.uploads.push_back(UploadRequest{entry->file, remote, 0600, "root:root", Privilege::Root});
    d.apply.command = fmt::format(
        "set -e; docker load -i {0} >/dev/null; rm -f {0}; "
        "kbz_id=$(docker image inspect -f {1} {2}); "
        "[ \"$kbz_id\" = {3} ] || {{ echo \"loaded {2} has ID $kbz_id, the bundle index says {3}\"; exit 1; }}",
        shell_quote(remote), kIdFormat, shell_quote(*ref), shell_quote(entry->id));
    return d;
  }
  if (have != "absent" && !have.empty()) return d;  // no expected ID without a bundle: a pinned tag is present
  d.change = true;
  d.message = fmt::format("{} absent -> docker pull", *ref);
  d.apply.command = fmt::format(
      "docker pull -q {0} || {{ echo 'cannot pull {0}: an air-gapped host needs image_bundle_dir in kbz.yaml "
      "(docker save archives + index.tsv)'; exit 1; }}",
      shell_quote(*ref));
  return d;
}

}  // namespace kbz
