// A module is data: modules/NN-name/module.yaml + templates/. This is its in-memory model.
// Format reference: ARCHITECTURE.md ("module.yaml").
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"

namespace kbz {

enum class StepKind { File, Packages, Command, Service, Wait, Container, Image };

// Container `rolling:`: a change of an EXISTING container is made one host at a time across the run's hosts,
// replicas before the primary (include/kbz/engine/rolling.hpp). Commands are templates, run as root.
struct RollingSpec {
  std::string primary_check;   // exit 0 = this host is the primary: it goes last; empty = no primary
  std::string before_primary;  // run on the primary just before its change (e.g. ask Sentinel to fail over)
  std::string ready;           // polled after each host's change until exit 0, before the next host goes
  int ready_timeout_s = 120;
};

struct Step {
  std::string id;
  std::string title;               // English, for the console
  std::string title_fr;            // French, for reports and docs
  StepKind kind = StepKind::Command;
  std::string hosts;               // optional selector restricting the step (same syntax as --hosts)
  std::string when;                // optional fact condition, e.g. "facts.resolver == resolved"
  std::vector<std::string> notify; // handler ids run once at the end of the host's steps if this step changed
  int timeout_s = 600;
  // File
  std::string path, template_name, content, mode = "0644", owner = "root:root";
  // Packages (name or name=version)
  std::vector<std::string> packages;
  // Command / Wait: check is read-only (exit 0 = nothing to do); apply runs only when check says so
  std::string check, apply;
  // Service
  std::string service, state = "started";  // started | stopped
  bool enabled = true;
  // Container / Image: `image` names an entry of kbz.yaml `images:`; when kbz.yaml does not name it, the
  // module's pinned default (Module::images) is used, copied here by the loader.
  std::string image, default_image;
  // Container: see src/engine/steps/container_step.cpp and ARCHITECTURE.md.
  std::string container_name;
  std::string run_as;                  // host account whose uid:gid the container runs with (owns its files)
  std::vector<std::string> command;    // argv after the image
  std::vector<std::string> mounts;     // "SRC:DST" (read-write) or "SRC:DST:ro" (hashed into the spec)
  std::map<std::string, std::string> env;  // never secrets (refused: argv)
  std::string restart = "unless-stopped";
  std::string log_max_size = "20m";
  int log_max_file = 3;
  int stop_timeout_s = 30;
  std::optional<RollingSpec> rolling;
  int line = 0;                    // where it stands in module.yaml, for error messages
};

struct Handler {
  std::string id;
  std::string title;
  std::string validate;            // must pass before `command` runs (e.g. sshd -t)
  std::string command;
  bool reconnect = false;          // after command: open a fresh SSH session to prove access still works
};

enum class Severity { Error, Warning };

struct VerifyCheck {
  std::string id;
  std::string title_fr;            // shown in the report
  std::string component;           // groups checks in "Composants validés"
  std::string hosts;               // optional selector
  std::string when;
  std::string command;             // read-only
  int expect_exit = 0;
  std::string expect_regex;        // searched in stdout (ECMAScript), empty = exit status only
  std::string value_regex;         // first capture group = measured value shown in the report; empty = first line
  Severity severity = Severity::Error;
};

struct CredentialSpec {
  std::string file;                // credentials/<file>.env
  std::string key;                 // e.g. REDIS_PASSWORD
  int length = 32;
  std::string charset = "alnum";   // alnum | hex
};

struct FailoverScenario {
  std::string id;
  std::string kind;                // named C++ scenario (e.g. redis-sentinel-failover)
  std::string title_fr;
  std::map<std::string, std::string> params;
};

struct Module {
  int number = 0;
  std::string id;                  // "base-os"
  std::string title;               // English
  std::string title_fr;            // "Base OS & sécurité"
  std::string doc;                 // docs/ file name, e.g. MODULE_02_BASE_OS.md
  std::string targets;             // selector of hosts the module runs on; "all" = every target host
  std::map<std::string, std::string> versions;  // shown in plan/report/docs
  std::map<std::string, std::string> images;    // image name -> pinned default reference (kbz.yaml images.* wins)
  std::vector<std::string> ports;  // "6379/tcp from private CIDR" for docs
  std::vector<CredentialSpec> credentials;
  std::vector<Step> steps;
  std::vector<Handler> handlers;
  std::vector<VerifyCheck> checks;
  std::vector<FailoverScenario> failover;
  std::string source_dir;          // "embedded:02-base-os" or a real folder
  std::map<std::string, std::string> templates;  // template name -> text
};

struct ModuleSource {
  std::optional<std::string> modules_dir;  // --modules-dir; empty = embedded copy
};

Result<Module> load_module(int number, const ModuleSource& source);
Result<std::vector<Module>> load_all_modules(const ModuleSource& source);
Result<Module> parse_module(const std::string& yaml_text, const std::string& origin);

}  // namespace kbz
