// `kbz-install credentials init [--module N]`: generates every secret the modules declare into credentials/
// (never overwrites, never prints a value: only which keys were created or already there).
#include <fmt/format.h>

#include <iostream>

#include "kbz/cli/commands.hpp"
#include "kbz/engine/credentials.hpp"
#include "kbz/engine/module.hpp"

namespace kbz {

int cmd_credentials_init(const GlobalOptions& g, std::optional<int> module) {
  ModuleSource source;
  if (!g.modules_dir.empty()) source.modules_dir = g.modules_dir;
  std::vector<Module> modules;
  if (module) {
    auto m = load_module(*module, source);
    if (!m) {
      std::cerr << "kbz-install: " << m.error().message << '\n';
      return static_cast<int>(ExitCode::BadInput);
    }
    modules.push_back(std::move(*m));
  } else {
    auto all = load_all_modules(source);
    if (!all) {
      std::cerr << "kbz-install: " << all.error().message << '\n';
      return static_cast<int>(ExitCode::BadInput);
    }
    modules = std::move(*all);
  }
  auto before = credentials::load_all(g.workdir);
  if (!before) {
    std::cerr << "kbz-install: " << before.error().message << '\n';
    return static_cast<int>(ExitCode::BadInput);
  }
  int created = 0, kept = 0;
  for (const auto& m : modules)
    for (const auto& spec : m.credentials) {
      const bool existed =
          before->files.contains(spec.file) && before->files.at(spec.file).contains(spec.key);
      Result<Secret> s = fail(ErrorKind::Internal, "unset");
      if (spec.derive == "rsa-2048") {  // module.yaml `generate: rsa-2048`
        s = credentials::ensure_rsa_key(g.workdir, spec.file, spec.key);
      } else if (spec.derive.empty()) {
        s = credentials::ensure(
            g.workdir, spec.file, spec.key, static_cast<std::size_t>(spec.length),
            spec.charset == "hex" ? credentials::Charset::Hex : credentials::Charset::Alnum);
      } else {
        auto source = credentials::load_all(g.workdir);
        if (!source) {
          std::cerr << "kbz-install: " << source.error().message << '\n';
          return static_cast<int>(ExitCode::BadInput);
        }
        s = credentials::ensure_derived(g.workdir, spec.file, spec.key,
                                        *credentials::derivation_named(spec.derive),
                                        source->keys.at(spec.from));
      }
      if (!s) {
        std::cerr << "kbz-install: " << s.error().message << '\n';
        return static_cast<int>(ExitCode::BadInput);
      }
      std::cout << fmt::format("{}/{}.env  {}  {}\n", credentials::dir_of(g.workdir), spec.file, spec.key,
                               existed ? "kept" : "created");
      (existed ? kept : created) += 1;
    }
  std::cout << fmt::format("{} created, {} kept\n", created, kept);
  return static_cast<int>(ExitCode::Ok);
}

}  // namespace kbz
