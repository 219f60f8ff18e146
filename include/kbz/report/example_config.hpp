// inventory/kbz.yaml.example: a kbz.yaml with every key and its default, each explained. The core keys are
// written by people above the markers; the block between them is rendered from the modules (their images and
// `settings:`), so a new module's keys appear in the example as soon as `kbz-install docs` runs.
#pragma once
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/report/docs_gen.hpp"

namespace kbz {

// The generated block, markers included (as `#` comments), ending with a newline: one `images:` map for every
// module's pinned defaults, then each module's settings as nested YAML with their default values.
std::string render_example_block(const std::vector<Module>& modules);

// What the example at `path` should contain (created with a minimal head if absent), and whether it parses as
// a kbz.yaml that holds exactly the defaults; writes nothing.
Result<DocUpdate> plan_example_update(const std::vector<Module>& modules, const std::string& path);

}  // namespace kbz
