// Helpers for the inventory tests: fixture paths and "exactly these diagnostics" assertions.
#pragma once
#include <string>
#include <tuple>
#include <vector>

#include "kbz/inventory/inventory.hpp"

namespace kbz::test {

inline std::string inventory_fixture(const std::string& name) {
  return std::string(KBZ_FIXTURES_DIR) + "/inventory/" + name;
}

// (line, column) of each diagnostic, in order: compared as a whole so an extra error fails the test.
inline std::vector<std::tuple<int, std::string>> where(const std::vector<Diagnostic>& errors) {
  std::vector<std::tuple<int, std::string>> out;
  for (const auto& d : errors) out.emplace_back(d.line, d.column);
  return out;
}

}  // namespace kbz::test
