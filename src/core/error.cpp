#include "kbz/core/error.hpp"

namespace kbz {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage:
      return "usage";
    case ErrorKind::Input:
      return "input";
    case ErrorKind::Io:
      return "io";
    case ErrorKind::Connect:
      return "connect";
    case ErrorKind::HostKey:
      return "host-key";
    case ErrorKind::Auth:
      return "auth";
    case ErrorKind::Timeout:
      return "timeout";
    case ErrorKind::Remote:
      return "remote";
    case ErrorKind::Locked:
      return "locked";
    case ErrorKind::Interrupted:
      return "interrupted";
    case ErrorKind::Internal:
      return "internal";
  }
  return "internal";
}

}  // namespace kbz
