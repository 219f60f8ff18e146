#include "kbz/report/cli_support.hpp"

#include <fmt/format.h>

#include "kbz/core/text.hpp"

namespace kbz {

ModuleSource module_source_of(const GlobalOptions& g) {
  ModuleSource s;
  if (!g.modules_dir.empty()) s.modules_dir = g.modules_dir;
  return s;
}

std::string command_prefix(const GlobalOptions& g) {
  const GlobalOptions defaults;
  std::string p = "kbz-install";
  if (g.inventory != defaults.inventory) p += " --inventory " + shell_word(g.inventory);
  if (g.config != defaults.config) p += " --config " + shell_word(g.config);
  if (g.env != defaults.env) p += " --env " + shell_word(g.env);
  if (g.address != defaults.address) p += " --address public";
  if (!g.modules_dir.empty()) p += " --modules-dir " + shell_word(g.modules_dir);
  if (g.workdir != defaults.workdir) p += " --workdir " + shell_word(g.workdir);
  return p;
}

}  // namespace kbz
