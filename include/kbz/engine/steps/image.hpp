// kind: image (air-gap is a product feature): the host must hold the pinned image with the expected ID.
// Pulled from the registry, or — when kbz.yaml image_bundle_dir has it — uploaded as a `docker save` archive
// (SFTP, skipped when the remote sha256 matches) and `docker load`ed. Hosts that already hold it are not
// touched.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/templates.hpp"

namespace kbz {

// The reference an image or container step uses for `images.<name>`: kbz.yaml's, else the module's pinned
// default (module.yaml `images:`).
Result<std::string> image_ref(const std::string& name, const Module& module, const TemplateContext& ctx);

// Templates see every image the module declares as settings.images.<name>: kbz.yaml's reference when it
// names one, else the module's pinned default (a helper script that runs `docker run` needs the same ref
// the image step put on the host).
void add_module_images(std::map<std::string, std::string>& settings, const Module& module);

// One row of <image_bundle_dir>/index.tsv: name, reference, image ID, archive file (tab-separated; the
// format the lab's bundle writes: tests/lab/lib/bundle.sh).
struct BundleEntry {
  std::string name, ref, id;
  std::string
      file;  // resolved: absolute as written if it exists, else <dir>/<basename>, relative -> <dir>/file
};
Result<std::vector<BundleEntry>> read_bundle_index(const std::string& dir);
std::optional<BundleEntry> find_in_bundle(const std::vector<BundleEntry>& entries, const std::string& ref);

// Where an archive is put on the host before `docker load` (/var/tmp/kbz-image-<file>; removed once loaded).
inline constexpr const char* kRemoteImagePrefix = "/var/tmp/kbz-image-";

}  // namespace kbz
