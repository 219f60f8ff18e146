// Error values returned by I/O, parsing and SSH calls (std::expected, no exceptions across layers).
#pragma once
#include <expected>
#include <string>
#include <utility>

namespace kbz {

enum class ErrorKind {
  Usage,        // bad flags or arguments: exit 2
  Input,        // bad input file (inventory, kbz.yaml, module.yaml): exit 2
  Io,           // local file system
  Connect,      // host down, refused, DNS
  HostKey,      // unknown or changed host key
  Auth,         // authentication refused
  Timeout,      // command or connection timeout
  Remote,       // remote command/protocol failure
  Locked,       // a lock is held by another run
  Interrupted,  // Ctrl-C
  Internal,
};

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return std::unexpected<Error>(Error{kind, std::move(message)});
}

const char* to_string(ErrorKind kind);

// Process exit codes, shared by every command.
enum class ExitCode : int { Ok = 0, HostFailure = 1, BadInput = 2 };

}  // namespace kbz
