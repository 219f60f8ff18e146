#include "kbz/verify/failover.hpp"

#include <fmt/format.h>

namespace kbz {

FailoverRegistry& FailoverRegistry::global() {
  // Built-in kinds are added here, explicitly: a static initializer in a static library may never be linked.
  static FailoverRegistry instance = [] {
    FailoverRegistry r;
    register_builtin_failovers(r);  // src/failover/table.cpp
    return r;
  }();
  return instance;
}

void FailoverRegistry::add(const std::string& kind, FailoverFn fn) { kinds_[kind] = std::move(fn); }

const FailoverFn* FailoverRegistry::find(const std::string& kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> FailoverRegistry::kinds() const {
  std::vector<std::string> v;
  for (const auto& [k, fn] : kinds_) v.push_back(k);
  return v;
}

Result<void> check_failover_kinds(const Module& module, const FailoverRegistry& registry) {
  for (const auto& sc : module.failover) {
    if (registry.find(sc.kind) != nullptr) continue;
    std::string known;
    for (const auto& k : registry.kinds()) known += (known.empty() ? "" : ", ") + k;
    return fail(
        ErrorKind::Input,
        fmt::format("{}: failover scenario '{}': unknown kind '{}' (known: {})",
                    module.source_dir.empty() ? fmt::format("module {}", module.number) : module.source_dir,
                    sc.id, sc.kind, known.empty() ? "none" : known));
  }
  return {};
}

}  // namespace kbz
