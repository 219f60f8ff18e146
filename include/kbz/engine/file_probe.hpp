// The checks of every `file` step of a batch in ONE item: two processes for all the files (sha256sum, stat)
// instead of two per file. A no-op re-apply is mostly file checks; each process costs the host ~1 ms of CPU.
// The item's output is split back into what each step's own check would have printed (file_step.cpp), so
// the file kind decides the same way whichever way its facts came.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kbz/engine/step_kind.hpp"

namespace kbz {

// The mode and owner line of a file check (`stat -c`): the step's own check and the probe print the same.
inline constexpr const char* kFileStatFormat = "%a %U:%G %u:%g";

// Paths the probe can carry: absolute, printed back verbatim by sha256sum and stat (no backslash, no newline)
// and literal in the shell (no '$' or '`': a path built from facts stays on the step's own check).
bool file_probe_takes(const std::string& path);

// Hashes, then modes and owners, of those of `paths` that are regular files. Read-only.
std::string file_probe_script(const std::vector<std::string>& paths);

// Per path: "<sha256>  -\n<mode> <user>:<group> <uid>:<gid>\n" (exit 0), "absent\n" (exit 0) when not a
// regular file, or exit 1 with the reason when only half of it came back (the file changed meanwhile, or
// root cannot read it).
std::map<std::string, CheckOutput> split_file_probe(const std::string& output,
                                                    const std::vector<std::string>& paths);

}  // namespace kbz
