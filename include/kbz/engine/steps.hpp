// The step kinds: each has a read-only check (a shell line batched with the others) and a local decision
// that turns the check's output into "ok" or "change, by running this apply". Pure functions: fixture tests
// feed them recorded check output (tests/fixtures/steps/).
#pragma once
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

struct StepDecision {
  bool change = false;
  std::string message;         // what differs, e.g. "content differs, mode 600 -> 644" (may need masking)
  ExecRequest apply;           // runs only when change; secrets only ever in apply.stdin_data
  std::string path;            // File: the rendered remote path
  std::string rendered;        // File: the rendered content, for plan diffs
  bool remote_exists = false;  // File: whether there is a remote version to diff against
  std::vector<std::string> secret_prefixes;  // File: how its secret lines start (diff.hpp hide_secret_lines)
  std::vector<UploadRequest> uploads;  // Image: sent first (SFTP, skipped when the sha256 matches), then apply
  bool existing = false;       // Container: the change recreates or starts an existing container (what `rolling:` rolls)
};

std::string shell_quote(std::string_view s);
// Remote output split into lines, a trailing '\r' (CRLF from a tty-less redis-cli, etc.) removed.
std::vector<std::string> lines_of(const std::string& text);
std::string sha256_hex(std::string_view data);

// The template text (File with template:) or inline content the step renders; empty for other kinds.
std::string step_source(const Module& module, const Step& step);

// The read-only check for the batch. `ctx` usually has facts_as_shell_vars set (facts are gathered in the
// same exec).
Result<std::string> render_check(const Step& step, const TemplateContext& ctx);

// Decision from the check's exit status and output (stderr merged), with the real facts in `ctx`.
Result<StepDecision> decide(const Step& step, const std::string& source, int check_exit,
                            const std::string& check_output, const TemplateContext& ctx);

// Polls `check` remotely in ONE exec (1 s apart) until it exits 0; exits 1 with its last output after timeout_s.
std::string wait_loop(const std::string& check, int timeout_s);

// The apply of packages, exposed for fixture tests: install at pinned versions, retrying fetch errors.
std::string apt_install_command(const std::vector<std::string>& packages);

}  // namespace kbz
