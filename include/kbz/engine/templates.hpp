// What module templates and templated commands see: host.*, settings.*, facts.*, credentials.KEY,
// hosts (every target) and hosts_by_role.<role> lists of {hostname, private_ip}.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/facts.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {

struct TemplateContext {
  Host host;
  std::map<std::string, std::string> settings;  // Settings::raw, flattened dotted keys
  Facts facts;
  std::map<std::string, std::string> credentials;  // KEY -> value; every value is registered with the Masker
  std::vector<Host> all_hosts;                     // the run's targets, for hosts / hosts_by_role
  // Check batches run before facts are known: facts.NAME then renders as a reference to a shell variable
  // the batch prelude sets (see facts_shell_prelude), so facts and checks share one exec.
  bool facts_as_shell_vars = false;
};

// Renders a config file template. Unknown host./settings./facts./credentials. names are errors (a typo would
// otherwise render as an empty string into a live config file).
Result<std::string> render_template(const std::string& text, const TemplateContext& ctx,
                                    const std::string& name);

// Renders a command line (check/apply/validate). Refuses when the result holds a registered secret value:
// argv is visible in `ps` and in sshd's logs.
Result<std::string> render_command(const std::string& text, const TemplateContext& ctx,
                                   const std::string& what);

// Shell lines that run facts_script() once and set KBZ_FACT_<name> variables for the checks that follow.
std::string facts_shell_prelude();
// Printing the gathered facts again as a batch item, so the engine parses them from the same exec.
inline constexpr const char* kFactsPrintCommand = "printf '%s\\n' \"$kbz_facts\"";

}  // namespace kbz

namespace kbz {
struct Module;
// Module::versions may name settings ({{settings.docker.version}}): show the values in force, never the
// template text. A value that does not render is kept as written.
void render_versions(Module& module, const std::map<std::string, std::string>& settings);
}  // namespace kbz
