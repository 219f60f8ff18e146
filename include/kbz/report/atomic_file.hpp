// Files the team reads (reports, SUIVI, docs) are replaced whole: written to a temp file in the same folder,
// then renamed over the target, so a crash or Ctrl-C never leaves a half-written report.
#pragma once
#include <string>

#include "kbz/core/error.hpp"

namespace kbz {

// Creates the parent folders. `mode` applies to the new file (0644 for reports).
Result<void> write_file_atomic(const std::string& path, const std::string& content, int mode = 0644);
// Missing file -> Error{Io}; callers that accept a missing file check std::filesystem::exists first.
Result<std::string> read_text_file(const std::string& path);

}  // namespace kbz
