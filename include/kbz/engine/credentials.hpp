// Generated secrets in <workdir>/credentials/<name>.env (KEY=VALUE lines). The directory is 0700 and every
// file 0600: a credentials dir or file that group/others can read is refused, not silently fixed, because
// the secrets in it must be considered leaked. Values are generated once and never overwritten, never
// printed; every value read is registered with the global Masker so logs and reports show "***".
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "kbz/core/error.hpp"
#include "kbz/core/secret.hpp"

namespace kbz::credentials {

enum class Charset {
  Alnum,  // A-Z a-z 0-9: safe unquoted in shells, URLs, YAML and .env files
  Hex,    // 0-9 a-f
};

// <workdir>/credentials
std::string dir_of(const std::string& workdir);

// The value of KEY in <workdir>/credentials/<name>.env. When the file or the key is missing, generates
// `length` characters from `charset` (OpenSSL RAND_bytes, no modulo bias), appends KEY=VALUE atomically
// (temp file + rename, 0600), and returns it. An existing value is returned as it is, never replaced.
// name: a-z 0-9 - _ ; key: A-Z 0-9 _ (not starting with a digit); length: 8..4096.
// Safe against concurrent kbz-install runs (an flock on credentials/.lock).
Result<Secret> ensure(const std::string& workdir, const std::string& name, const std::string& key,
                      std::size_t length, Charset charset = Charset::Alnum);

// A new RSA 2048 private key (core/x509_ca.hpp), stored as base64 of its PEM (one line). Never replaced.
Result<Secret> ensure_rsa_key(const std::string& workdir, const std::string& name, const std::string& key);

// Values computed from another credential, never random: `scram-sha-256` is the SCRAM verifier of a password
// (core/scram.hpp), what PgBouncer's userlist.txt and `ALTER ROLE ... PASSWORD` can share without the
// password itself. `x509-ca` is a self-signed CA certificate (CN=kubernetes, 10 years; base64 of its PEM)
// for a key made by ensure_rsa_key: kept while it is a CA of that key, so an operator adopting an existing
// cluster CA replaces the key and the certificate together. `spki-sha256` is the kubeadm pin
// ("sha256:<hex>" of the certificate's SubjectPublicKeyInfo) of such a certificate: recomputed whenever the
// certificate changes.
enum class Derivation { ScramSha256, X509Ca, SpkiSha256 };

// The Derivation of a module.yaml `derive:` name; nullopt for an unknown one.
std::optional<Derivation> derivation_named(std::string_view name);

// The value of KEY derived from `source`, kept in <workdir>/credentials/<name>.env like any other (a SCRAM
// verifier has a random salt, so it is made once and reused: applies stay idempotent). A stored value that
// no longer matches `source` (the password was rotated) is replaced in place.
Result<Secret> ensure_derived(const std::string& workdir, const std::string& name, const std::string& key,
                              Derivation derivation, const Secret& source);

struct Store {
  std::map<std::string, std::map<std::string, Secret>> files;  // file name (without .env) -> KEY -> value
  std::map<std::string, Secret> keys;                          // KEY -> value across files (credentials.KEY)
};

// Reads every credentials/*.env and registers every value with the Masker. No credentials dir = empty store.
// Errors (bad permissions, a line that is not KEY=VALUE, one KEY with two different values in two files)
// are all reported, one per line, without ever quoting a value.
Result<Store> load_all(const std::string& workdir);

}  // namespace kbz::credentials
