// Every subcommand as a plain function over plain options; src/main.cpp maps CLI11 flags onto these.
// Each returns the process exit code (0 ok, 1 something failed on a host, 2 bad input or usage).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kbz/run/options.hpp"
#include "kbz/run/verify_run.hpp"

namespace kbz {

int cmd_inventory(const GlobalOptions& g);
int cmd_exec(const GlobalOptions& g, const std::vector<std::string>& command);
int cmd_plan(const GlobalOptions& g, int module);
int cmd_apply(const GlobalOptions& g, int module, const std::string& from_step);
int cmd_verify(const GlobalOptions& g, std::optional<int> module, VerifyMode mode);
int cmd_status(const GlobalOptions& g);
int cmd_preflight(const GlobalOptions& g, const std::vector<int>& modules);  // empty = every module
// apply --all / verify --all: every module from `from_module` on, in order; stops at the first failure.
enum class ChainMode { ApplyAndVerify, VerifyOnly };
int cmd_chain(const GlobalOptions& g, ChainMode mode, int from_module, VerifyMode verify_mode);
enum class DocsMode { Write, Check };  // Check: fail when a doc is out of date, change nothing
// example_path: the example kbz.yaml kept in step with the modules ("" = none).
int cmd_docs(const GlobalOptions& g, DocsMode mode, const std::string& docs_dir,
             const std::string& example_path = "");
int cmd_credentials_init(const GlobalOptions& g, std::optional<int> module);

}  // namespace kbz
