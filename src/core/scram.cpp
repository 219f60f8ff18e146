#include "kbz/core/scram.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <string>
#include <vector>

namespace kbz {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

std::string base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Standard base64 with padding; nullopt-like empty result on malformed input (flag `ok`).
std::string unbase64(std::string_view text, bool& ok) {
  ok = false;
  if (text.empty() || text.size() % 4 != 0) return {};
  std::string out(text.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return {};
  size_t pad = 0;
  if (text.ends_with("=="))
    pad = 2;
  else if (text.ends_with("="))
    pad = 1;
  out.resize(static_cast<size_t>(n) - pad);
  ok = true;
  return out;
}

bool hmac(std::string_view key, std::string_view msg, Digest& out) {
  unsigned int len = 0;
  return HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out.data(), &len) != nullptr &&
         len == out.size();
}

std::string_view view(const Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

}  // namespace

Result<std::string> scram_sha256_verifier(std::string_view password, std::string_view salt, int iterations) {
  if (iterations < 1 || salt.empty()) return fail(ErrorKind::Internal, "SCRAM: bad salt or iteration count");
  Digest salted{}, client_key{}, stored_key{}, server_key{};
  // SaltedPassword = Hi(password, salt, i) = PBKDF2-HMAC-SHA-256
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        iterations, EVP_sha256(), static_cast<int>(salted.size()), salted.data()) != 1)
    return fail(ErrorKind::Internal, "SCRAM: PBKDF2 failed");
  if (!hmac(view(salted), "Client Key", client_key) || !hmac(view(salted), "Server Key", server_key))
    return fail(ErrorKind::Internal, "SCRAM: HMAC failed");
  SHA256(client_key.data(), client_key.size(), stored_key.data());
  const std::string out = "SCRAM-SHA-256$" + std::to_string(iterations) + ":" +
                          base64(reinterpret_cast<const unsigned char*>(salt.data()), salt.size()) + "$" +
                          base64(stored_key.data(), stored_key.size()) + ":" +
                          base64(server_key.data(), server_key.size());
  salted.fill(0);
  client_key.fill(0);
  return out;
}

Result<std::string> scram_sha256_verifier(std::string_view password) {
  std::array<unsigned char, 16> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
    return fail(ErrorKind::Internal, "OpenSSL RAND_bytes failed: no secure random source");
  return scram_sha256_verifier(
      password, std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()), 4096);
}

bool scram_sha256_matches(std::string_view verifier, std::string_view password) {
  constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (!verifier.starts_with(kPrefix)) return false;
  const std::string_view rest = verifier.substr(kPrefix.size());
  const auto colon = rest.find(':');
  const auto dollar = rest.find('$');
  if (colon == std::string_view::npos || dollar == std::string_view::npos || colon > dollar) return false;
  int iterations = 0;
  for (const char c : rest.substr(0, colon)) {
    if (c < '0' || c > '9' || iterations > 10'000'000) return false;
    iterations = iterations * 10 + (c - '0');
  }
  bool ok = false;
  const std::string salt = unbase64(rest.substr(colon + 1, dollar - colon - 1), ok);
  if (!ok) return false;
  auto again = scram_sha256_verifier(password, salt, iterations);
  return again && *again == verifier;
}

}  // namespace kbz
