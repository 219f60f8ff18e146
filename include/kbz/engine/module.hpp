// A module is data: modules/NN-name/module.yaml + templates/. This is its in-memory model.
// Format reference: ARCHITECTURE.md ("module.yaml").
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/settings.hpp"

namespace kbz {

class StepKind;  // kbz/engine/step_kind.hpp: the table of kinds

// `rolling:` (container and command steps): a change of an EXISTING container, or any change of a command
// step, is made one host at a time across the run's hosts, replicas before the primary
// (include/kbz/engine/rolling.hpp). Commands are templates, run as root.
struct RollingSpec {
  std::string primary_check;   // exit 0 = this host is the primary: it goes last; empty = no primary
  std::string before_primary;  // run on the primary just before its change (e.g. ask Sentinel to fail over)
  std::string ready;           // polled after each host's change until exit 0, before the next host goes
  int ready_timeout_s = 120;
  // Prints an integer (last line): among the non-primaries, the highest goes first (ties: inventory order),
  // e.g. a database node's replication position, so the most advanced one starts a cluster. The apply of a
  // rolled step sees every ranked host's value in KBZ_ROLLING_RANKS ("host=rank ..."). Empty = rank 0.
  std::string rank;
};

// What a kind reads from its own keys; each kind's file defines its own (src/engine/steps/).
struct StepSpec {
  virtual ~StepSpec() = default;
};

struct Step {
  std::string id;
  std::string title;               // English, for the console
  std::string title_fr;            // French, for reports and docs
  const StepKind* kind = nullptr;  // from the table; never null in a loaded module
  std::string hosts;               // optional selector restricting the step (same syntax as --hosts)
  std::string when;                // optional fact condition, e.g. "facts.resolver == resolved"
  std::vector<std::string>
      notify;  // handler ids run once at the end of the host's steps if this step changed
  int timeout_s = 600;
  std::optional<RollingSpec> rolling;  // only for kinds that take it (container)
  std::shared_ptr<const StepSpec> spec;
  int line = 0;  // where it stands in module.yaml, for error messages

  std::string_view kind_name() const;
  // The kind's own fields; only that kind's file (and its tests) know T.
  template <class T>
  const T& spec_as() const {
    return dynamic_cast<const T&>(*spec);
  }
};

struct Handler {
  std::string id;
  std::string title;
  std::string validate;  // must pass before `command` runs (e.g. sshd -t)
  std::string command;
  bool reconnect = false;  // after command: open a fresh SSH session to prove access still works
};

enum class Severity { Error, Warning };

struct VerifyCheck {
  std::string id;
  std::string title_fr;   // shown in the report
  std::string component;  // groups checks in "Composants validés"
  std::string hosts;      // optional selector
  std::string when;
  std::string command;  // read-only
  int expect_exit = 0;
  std::string expect_regex;  // searched in stdout (ECMAScript), empty = exit status only
  std::string value_regex;   // first capture group = measured value shown in the report; empty = first line
  Severity severity = Severity::Error;
  std::string lab_untested;  // `lab: "why"`: with kbz.yaml lab: true, reported "non testé dans le lab"
};

struct CredentialSpec {
  std::string file;  // credentials/<file>.env
  std::string key;   // e.g. REDIS_PASSWORD
  int length = 32;
  std::string charset = "alnum";  // alnum | hex
  // "" = random characters. With `from`: a value derived from that credential ("scram-sha-256", "x509-ca",
  // "spki-sha256"). Without `from`: a generated key, module.yaml `generate:` ("rsa-2048", PEM in base64).
  std::string derive;
  std::string from;  // the KEY it is derived from (declared before it, in this module)
  // A list setting (e.g. minio.apps): one random secret per item, stored as KEY_<NAME> (NAME: the item's
  // text before '=', upper case, '-' -> '_'); templates see KEY as "name secret" lines, one per item.
  std::string for_each;
};

struct FailoverScenario {
  std::string id;
  std::string kind;  // named C++ scenario (e.g. redis-sentinel-failover)
  std::string title_fr;
  std::map<std::string, std::string> params;
  std::string lab_untested;  // as for checks: the scenario needs software the lab cannot have
  // params[key], or fallback when module.yaml does not set it.
  std::string param(const std::string& key, const std::string& fallback) const {
    const auto it = params.find(key);
    return it == params.end() ? fallback : it->second;
  }
};

// A cluster-level wait run by apply after every host has done its steps: apply succeeds only once the cluster
// is in the state verify accepts (k0sctl waits for nodes Ready). Polled on each host it applies to, all at
// once, one exec per host.
struct ConvergeCheck {
  std::string id;
  std::string title;     // English, console
  std::string title_fr;  // French, docs
  std::string hosts;     // selector; empty = every host of the module
  std::string check;     // read-only, exit 0 = converged (a template)
  int timeout_s = 120;
};

// A port the module's services bind on some of its hosts: preflight checks it is free or already held by the
// module's own container (`owner`), before apply changes anything.
struct Listen {
  int port = 0;
  std::string proto = "tcp";  // tcp | udp
  std::string hosts;          // selector; empty = every host of the module
  std::string owner;          // the container that may hold it (its name)
};

struct Module {
  int number = 0;
  std::string id;        // "base-os"
  std::string title;     // English
  std::string title_fr;  // "Base OS & sécurité"
  std::string doc;       // docs/ file name, e.g. MODULE_02_BASE_OS.md
  std::string targets;   // selector of hosts the module runs on; "all" = every target host
  std::map<std::string, std::string> versions;  // shown in plan/report/docs
  std::map<std::string, std::string>
      images;                      // image name -> pinned default reference (kbz.yaml images.* wins)
  std::vector<std::string> ports;  // "6379/tcp from private CIDR" for docs
  std::vector<Listen> listens;     // machine-readable ports, for preflight
  std::vector<CredentialSpec> credentials;
  std::vector<SettingSpec> settings;  // kbz.yaml keys this module adds (with defaults)
  std::vector<Step> steps;
  std::vector<Handler> handlers;
  std::vector<ConvergeCheck> converge;
  std::vector<VerifyCheck> checks;
  std::vector<FailoverScenario> failover;
  std::vector<std::string> attention_fr;  // standing warnings for the report's "Points d'Attention" (French)
  std::string source_dir;                 // "embedded:02-base-os" or a real folder
  std::map<std::string, std::string> templates;  // template name -> text
};

struct ModuleSource {
  std::optional<std::string> modules_dir;  // --modules-dir; empty = embedded copy
};

Result<Module> load_module(int number, const ModuleSource& source);
Result<std::vector<Module>> load_all_modules(const ModuleSource& source);
// Every setting the modules declare, for the kbz.yaml reader.
std::vector<SettingSpec> declared_settings(const std::vector<Module>& modules);
Result<Module> parse_module(const std::string& yaml_text, const std::string& origin);

// One credential of a `for_each` spec: the item's name and the KEY it is stored under.
struct CredentialItem {
  std::string name;  // "billing" for the item "billing=keybuzz-backups:rw"
  std::string key;   // MINIO_APP_SECRET_BILLING
};
// The items of spec.for_each in these settings (Settings::raw); an error names the setting when two items
// share a name or a name gives no valid KEY.
Result<std::vector<CredentialItem>> credential_items(const CredentialSpec& spec,
                                                     const std::map<std::string, std::string>& settings);

}  // namespace kbz
