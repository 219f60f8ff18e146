// The converge phase of apply (module.yaml `converge:`): after every host has done its steps, the module's
// cluster-level checks are polled on each host they apply to, all of a host's checks at once in ONE exec,
// until each passes or its timeout runs out. apply succeeds only when they all pass: it returns when the
// cluster is in the state verify accepts (k0sctl waits for nodes Ready the same way).
#pragma once
#include <vector>

#include "kbz/engine/module.hpp"
#include "kbz/engine/results.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

// The script polling `checks` (rendered for the host) in parallel; prints "kbz-converge <id> ok <s>" or
// "kbz-converge <id> timeout <s>" preceded by "kbz-converge-out <id> <line>" lines of its last output.
std::string converge_script(const std::vector<std::pair<const ConvergeCheck*, std::string>>& checks);
// One result per check ("converge:<id>"), from the script's output; a check with no line failed.
std::vector<StepResult> parse_converge_output(const std::vector<const ConvergeCheck*>& checks,
                                              const std::string& output);

// Runs the host's applicable checks (one exec). Render errors and transport errors are failed results.
std::vector<StepResult> run_converge(Connection& connection, const Module& module,
                                     const TemplateContext& ctx);

// What the apply run decides once every host is done (module_hosts: every host of the run, in order):
// nothing to do (no converge checks), skip (a host failed: the cluster cannot be judged), already converged
// (no host changed anything and every check passed with the first checks: no exec), or poll.
enum class ConvergeNeed { None, Skip, AlreadyConverged, Poll };
ConvergeNeed converge_need(const Module& module, const std::vector<HostRun>& hosts);

}  // namespace kbz
