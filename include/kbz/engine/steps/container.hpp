// kind: container (module 4 and every later cluster module): one service as a Docker container from a
// pinned image, host networking, run as a host account's uid:gid, configs mounted read-only, json-file logs
// with limits, a restart policy. Idempotent: a spec hash (image ID, argv, mounts, env, user, the sha256 of
// every read-only mount) is stored as a container label; the container is recreated only when it differs,
// started when it is merely stopped, and left alone otherwise.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/templates.hpp"

namespace kbz {

// What a container step reads from module.yaml (ARCHITECTURE.md, "container and image steps").
struct ContainerStepSpec : StepSpec {
  std::string image;   // an entry of images:
  std::string name;    // container name
  std::string run_as;  // host account whose uid:gid the container runs with (owns its files), or "UID:GID"
  std::vector<std::string> command;        // argv after the image
  std::vector<std::string> mounts;         // "SRC:DST" (read-write) or "SRC:DST:ro" (hashed into the spec)
  std::map<std::string, std::string> env;  // never secrets (refused: argv)
  std::vector<std::string> ulimits;  // "nofile=65536:65536" -> --ulimit (Docker's default nofile is 1024)
  std::string restart = "unless-stopped";
  std::string log_max_size = "20m";
  int log_max_file = 3;
  int stop_timeout_s = 30;
};

// A mount as written in module.yaml: "SRC:DST" or "SRC:DST:ro".
struct Mount {
  std::string source, target;
  bool read_only = false;
};
Result<Mount> parse_mount(const std::string& text);

// What the check reports about the host (parsed from its output).
struct ContainerFacts {
  std::string image_id;                                    // empty = image not on the host
  std::string user;                                        // "uid:gid", empty = account missing
  std::vector<std::pair<std::string, std::string>> files;  // read-only mount source -> sha256 ("absent")
  std::string state;                                       // running | exited | created | ... | absent
  std::string spec;                                        // kbz.spec label of the existing container
  std::string parts;                                       // kbz.spec.parts label
};
ContainerFacts parse_container_check(const std::string& output);

// The canonical text hashed into the spec label, split into its parts (image, run, config).
struct ContainerSpec {
  std::string image, run, config;  // canonical texts
  std::string hash() const;        // sha256 of the three
  std::string parts() const;       // "image=<12 hex> run=<12 hex> config=<12 hex>"
};

// Whether a mount source is `path` itself or a folder holding it (lexical: "/a/b" covers "/a/b/c", not
// "/a/bc").
bool mount_covers(const std::string& source, const std::string& path);

}  // namespace kbz
