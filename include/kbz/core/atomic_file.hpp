// Files are replaced whole: written to a temp file in the same folder, then renamed over the target, so a
// crash or Ctrl-C never leaves half a report, state file or secret. The one writer for reports, SUIVI, docs,
// run state and credentials/ (0600).
#pragma once
#include <string>

#include "kbz/core/error.hpp"

namespace kbz {

// Creates missing parent folders. The temp file is created 0600 with O_EXCL (never follows a planted link),
// set to `mode`, fsync'ed, renamed over `path`, then the folder is fsync'ed so the rename survives a crash.
Result<void> write_file_atomic(const std::string& path, const std::string& content, int mode = 0644);
// Missing file -> Error{Io}; callers that accept a missing file check std::filesystem::exists first.
Result<std::string> read_text_file(const std::string& path);

}  // namespace kbz
