// SCRAM-SHA-256 verifiers (RFC 5802 / RFC 7677) in PostgreSQL's pg_authid format:
//   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
// A verifier lets a server (PostgreSQL, PgBouncer's userlist.txt) check a password without holding it.
// PostgreSQL accepts such a string as the PASSWORD of ALTER ROLE and stores it as it is, so PgBouncer and
// PostgreSQL can share one verifier (PgBouncer's SCRAM pass-through needs them identical).
#pragma once
#include <string>
#include <string_view>

#include "kbz/core/error.hpp"

namespace kbz {

// The verifier of `password` with `salt` (raw bytes) and `iterations`. The password is used as it is (no
// SASLprep: generated passwords are ASCII).
Result<std::string> scram_sha256_verifier(std::string_view password, std::string_view salt, int iterations);

// A verifier with a fresh random 16-byte salt (OpenSSL RAND_bytes) and 4096 iterations (PostgreSQL's
// default).
Result<std::string> scram_sha256_verifier(std::string_view password);

// True when `verifier` (the format above) was made from `password`.
bool scram_sha256_matches(std::string_view verifier, std::string_view password);

}  // namespace kbz
