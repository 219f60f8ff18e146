// Shared by the engine tests that run hosts through the LOCAL runner: a per-test scratch folder and a
// step's result by id.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "kbz/engine/module.hpp"
#include "kbz/engine/results.hpp"

namespace kbz::test {

// <tmp>/<prefix>-<pid>-<test name>, emptied: parallel ctest processes and tests never share files.
inline std::filesystem::path fresh_test_dir(const std::string& prefix) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (prefix + "-" + std::to_string(getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline const StepResult& step(const HostRun& run, const std::string& id) {
  for (const auto& s : run.steps)
    if (s.step_id == id) return s;
  throw std::runtime_error("no step " + id);
}

// One step written as module.yaml writes it (each kind reads its own keys), with the module's images.
inline Step parse_step(const std::string& step_yaml, const std::string& images = "{}") {
  auto m = parse_module("number: 1\nid: t\ntitle: t\nimages: " + images + "\nsteps:\n  - " + step_yaml + "\n",
                        "test");
  if (!m) throw std::runtime_error(m.error().message);
  return m->steps.at(0);
}

}  // namespace kbz::test
