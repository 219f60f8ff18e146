// The table of step kinds (design: pyinfra facts/*.py, k0sctl phase/*.go). Each kind lives in ONE file under
// src/engine/steps/ and declares its name, the keys it takes, how it reads them from module.yaml, its
// read-only check (a shell snippet batched with the other checks), how the check's output becomes a decision,
// and how the generated docs describe it. The loader's key validation, the engine's dispatch and the docs'
// kind names all read this table: a new kind is one new file plus one row in src/engine/steps/table.cpp.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/core/yaml_reader.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

// What the check printed on the host (stderr merged) and its exit status: the step's facts, as recorded in
// the fixture files of tests/fixtures/steps/<kind>/.
struct CheckOutput {
  int exit_status = -1;
  std::string output;
};

// A file a step would write, for plan diffs (masked; secret lines hidden by position, diff.hpp).
struct FileWrite {
  std::string path;                          // rendered remote path
  std::string rendered;                      // new content
  bool remote_exists = false;                // there is a remote version to diff against
  std::vector<std::string> secret_prefixes;  // how its secret lines start
};

enum class SuccessIs { Changed, Ok };  // Ok: a wait that became ready changed nothing on the host

struct StepDecision {
  bool change = false;
  std::string message;                 // what differs (the caller masks it)
  ExecRequest apply;                   // runs only when change; secrets only ever in apply.stdin_data
  std::vector<UploadRequest> uploads;  // sent first (SFTP, skipped when the sha256 matches), then apply
  std::optional<FileWrite> file;       // a file step's write, for plan diffs
  // Plan: if an earlier step of the host would rewrite one of these paths (or a file under one), apply will
  // re-check after it and change this step too; plan says `watch_message` + the path.
  std::vector<std::string> watched_paths;
  std::string watch_message;  // e.g. "recreate redis: mounted config"
  bool existing = false;      // the change restarts something running (what `rolling:` rolls)
  SuccessIs success = SuccessIs::Changed;
};

// Options of a kind, for the engine and the loader.
struct KindTraits {
  bool takes_rolling = false;  // `rolling:` allowed (the change of an existing service, one host at a time)
  bool defers_in_plan =
      false;  // plan: a remote error while earlier steps would change = "runs once they ran"
  int default_timeout_s = 600;
};

class StepKind {
 public:
  virtual ~StepKind() = default;
  virtual std::string_view name() const = 0;
  virtual std::vector<std::string> keys() const = 0;  // its own keys, beyond the common ones (id, title, ...)
  virtual KindTraits traits() const { return {}; }
  // Reads the kind's keys into step.spec; problems go to the reader (file:line:col), reading goes on.
  virtual void parse(const yaml::Fields& fields, Step& step) const = 0;
  // Checks that need the whole module (templates, images): "" = fine.
  virtual std::string validate(const Step&, const Module&) const { return {}; }
  // The read-only check for the batch (`ctx` usually has facts_as_shell_vars set: facts are gathered in the
  // same exec).
  virtual Result<std::string> check(const Step& step, const Module& module,
                                    const TemplateContext& ctx) const = 0;
  // A kind whose check is only the hash, mode and owner of one file names that file (rendered with `ctx`):
  // the engine then probes all the files of a batch in one item (file_probe.hpp) instead of running check().
  virtual std::optional<std::string> probed_path(const Step&, const TemplateContext&) const {
    return std::nullopt;
  }
  // The decision from the check's output, with the real facts in `ctx`.
  virtual Result<StepDecision> decide(const Step& step, const Module& module, const CheckOutput& checked,
                                      const TemplateContext& ctx) const = 0;
  // The generated docs (French): what the step sets up, one table cell.
  virtual std::string describe_fr(const Step& step, const Module& module) const = 0;
  // Commands to list in the docs (label, command text), e.g. a command step's check and apply.
  virtual std::vector<std::pair<std::string, std::string>> doc_commands(const Step&) const { return {}; }
  // A file the step writes, for the docs' table of files: path, mode, owner, source.
  struct DocFile {
    std::string path, mode, owner, source;
  };
  virtual std::optional<DocFile> doc_file(const Step&) const { return std::nullopt; }
};

// Every kind, in the order the docs list them.
const std::vector<const StepKind*>& step_kinds();
const StepKind* find_step_kind(std::string_view name);
// "file, packages, command, ..." for messages.
std::string step_kind_names();

// Keys every step takes whatever its kind.
const std::vector<std::string>& common_step_keys();

// Dispatch through the table (the engine and the fixture tests call these).
Result<std::string> render_check(const Step& step, const Module& module, const TemplateContext& ctx);
Result<StepDecision> decide(const Step& step, const Module& module, const CheckOutput& checked,
                            const TemplateContext& ctx);

// Polls `check` remotely in ONE exec (1 s apart) until it exits 0; exits 1 with its last output after
// timeout_s. Wait steps, rolling `ready` and the converge phase use it.
std::string wait_loop(const std::string& check, int timeout_s);

}  // namespace kbz
