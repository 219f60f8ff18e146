// Ctrl-C: the first SIGINT/SIGTERM sets a flag that running work polls (stop after the running commands,
// release locks, write the log); a second one exits at once.
#pragma once

namespace kbz {
void install_interrupt_handler();
bool interrupted();
void reset_interrupted();  // tests only
}  // namespace kbz
