// Container step kind (module 4 and every later cluster module): one service as a Docker container from a
// pinned image, host networking, run as a host account's uid:gid, configs mounted read-only, json-file logs
// with limits, a restart policy. Idempotent: a spec hash (image ID, argv, mounts, env, user, the sha256 of
// every read-only mount) is stored as a container label; the container is recreated only when it differs,
// started when it is merely stopped, and left alone otherwise.
#pragma once
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/steps.hpp"
#include "kbz/engine/templates.hpp"

namespace kbz {

// A mount as written in module.yaml: "SRC:DST" or "SRC:DST:ro".
struct Mount {
  std::string source, target;
  bool read_only = false;
};
Result<Mount> parse_mount(const std::string& text);

// What the check reports about the host (parsed from its output).
struct ContainerFacts {
  std::string image_id;                                   // empty = image not on the host
  std::string user;                                       // "uid:gid", empty = account missing
  std::vector<std::pair<std::string, std::string>> files; // read-only mount source -> sha256 ("absent")
  std::string state;                                      // running | exited | created | ... | absent
  std::string spec;                                       // kbz.spec label of the existing container
  std::string parts;                                      // kbz.spec.parts label
};
ContainerFacts parse_container_check(const std::string& output);

// The canonical text hashed into the spec label, split into its parts (image, run, config).
struct ContainerSpec {
  std::string image, run, config;  // canonical texts
  std::string hash() const;        // sha256 of the three
  std::string parts() const;       // "image=<12 hex> run=<12 hex> config=<12 hex>"
};

// The rendered container name and its read-only mount sources. Plan uses them: an earlier file step that
// would rewrite one of these files means apply will recreate the container, though its check says "ok" now.
struct ContainerConfigs {
  std::string name;
  std::vector<std::string> ro_sources;
};
Result<ContainerConfigs> container_configs(const Step& step, const TemplateContext& ctx);
// Whether a mount source is `path` itself or a folder holding it (lexical: "/a/b" covers "/a/b/c", not "/a/bc").
bool mount_covers(const std::string& source, const std::string& path);

Result<std::string> container_render_check(const Step& step, const TemplateContext& ctx);
Result<StepDecision> container_decide(const Step& step, int check_exit, const std::string& check_output,
                                      const TemplateContext& ctx);

}  // namespace kbz
