// Many read-only commands in ONE remote exec: a remote exec costs ~10 ms of server CPU, so checks and verify
// probes for a host are sent together and their outputs split apart by a per-run marker.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "kbz/core/error.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

struct BatchItem {
  std::string id;
  std::string command;  // run in its own subshell, stdin from /dev/null, stderr merged into stdout
};

struct BatchOutput {
  std::string id;
  int exit_status = -1;
  std::string output;
};

// `prelude` runs first in the same shell (e.g. taking a lock); a non-zero exit of the prelude aborts the
// batch.
std::string build_batch_script(const std::vector<BatchItem>& items, std::string_view marker,
                               std::string_view prelude = {});
Result<std::vector<BatchOutput>> parse_batch_output(std::string_view text, std::string_view marker,
                                                    const std::vector<BatchItem>& items);
// A fresh random marker, so no command output can forge a record boundary.
std::string new_batch_marker();

Result<std::vector<BatchOutput>> run_batch(Connection& connection, const std::vector<BatchItem>& items,
                                           Millis timeout = Millis{0}, std::string_view prelude = {});

}  // namespace kbz
