// The verify runner: per host ONE exec carrying the facts script and every check that applies to the host,
// hosts in parallel; then, only when asked, the module's failover scenarios one after the other.
#pragma once
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kbz/engine/batch.hpp"
#include "kbz/engine/facts.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/results.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/verify/failover.hpp"

namespace kbz {

struct VerifyOptions {
  int forks = 32;
  Millis timeout{0};           // for the host's verify exec; 0 = the connection's default
  bool failover = false;       // --failover
  std::string inventory_path;  // recorded in the report
  // What check commands are rendered with: settings, credentials, all_hosts (host is set per host; facts
  // become shell variables set by the batch prelude, so facts and checks share one exec).
  TemplateContext templates;
};

// The check's `hosts:` selector (comma-separated terms, any may match); empty = every host of the module.
bool check_applies(const VerifyCheck& check, const Host& host);

inline constexpr std::string_view kFactsItemId = "__facts";

// What one host is sent: the facts printout first, then the applicable checks in module order, rendered for
// this host. A check whose command cannot be rendered is left out and named in render_errors.
struct HostBatch {
  std::vector<BatchItem> items;
  std::string prelude;                               // gathers the facts into shell variables
  std::map<std::string, std::string> render_errors;  // check id -> why
  std::set<std::string> not_tested;                  // lab: checks marked `lab:` (never sent)
  std::map<std::string, std::string> settings;       // for `when: settings.x == y`
};
HostBatch host_batch(const Module& module, const Host& host, const TemplateContext& templates);

// Renders every applicable check for every host; the first problem is an input error (exit 2) naming the
// module file, the check and the host, reported before any host is contacted.
Result<void> validate_check_commands(const Module& module, const std::vector<Host>& hosts,
                                     const TemplateContext& templates);

// Turns the batch outputs into results (when: evaluated on the facts of the same batch). Version checks
// that passed fill `versions` (component -> measured value).
std::vector<CheckResult> evaluate_host_batch(const Module& module, const Host& host, const HostBatch& batch,
                                             const std::vector<BatchOutput>& outputs,
                                             std::map<std::string, std::string>& versions);

// Every applicable check of a host we could not get results from fails with `why` (never hidden).
std::vector<CheckResult> failed_host_results(const Module& module, const Host& host, const std::string& why);

VerifyRun run_verify(const Module& module, const std::vector<Host>& hosts, const Connector& connect,
                     const VerifyOptions& options, const FailoverRegistry& registry);

}  // namespace kbz
