#include "kbz/core/x509_ca.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <memory>
#include <string>

namespace kbz::x509 {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

// OpenSSL's queued error as text (never holds key material: error strings name functions and reasons).
std::string openssl_error(const std::string& what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return what;
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  return what + ": " + buf.data();
}

Bio read_bio(std::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string{};
}

Pkey load_key(std::string_view pem) {
  auto bio = read_bio(pem);
  return Pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

Cert load_cert(std::string_view pem) {
  auto bio = read_bio(pem);
  return Cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

bool add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

Result<std::string> new_rsa_key_pem() {
  Pkey key(EVP_RSA_gen(2048));
  if (!key) return fail(ErrorKind::Internal, openssl_error("RSA key generation failed"));
  Bio out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return fail(ErrorKind::Internal, openssl_error("cannot write the RSA key as PEM"));
  return bio_text(out.get());
}

Result<std::string> new_self_signed_ca_pem(std::string_view key_pem, std::string_view common_name, int days) {
  Pkey key = load_key(key_pem);
  if (!key) return fail(ErrorKind::Input, openssl_error("the CA private key is not a PEM private key"));
  if (days < 1) return fail(ErrorKind::Internal, "CA validity must be at least one day");
  Cert cert(X509_new());
  if (!cert) return fail(ErrorKind::Internal, openssl_error("X509_new"));

  std::array<unsigned char, 16> serial{};
  if (RAND_bytes(serial.data(), static_cast<int>(serial.size())) != 1)
    return fail(ErrorKind::Internal, "OpenSSL RAND_bytes failed: no secure random source");
  serial[0] &= 0x7f;  // a positive INTEGER
  Bignum bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  const std::string cn(common_name);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool ok =
      X509_set_version(cert.get(), 2) == 1 && bn &&
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) != nullptr &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 &&
      add_ext(cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
      add_ext(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign") &&
      add_ext(cert.get(), NID_subject_key_identifier, "hash") &&
      X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return fail(ErrorKind::Internal, openssl_error("cannot build the CA certificate"));
  Bio out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), cert.get()) != 1)
    return fail(ErrorKind::Internal, openssl_error("cannot write the CA certificate as PEM"));
  return bio_text(out.get());
}

bool ca_matches_key(std::string_view cert_pem, std::string_view key_pem) {
  Cert cert = load_cert(cert_pem);
  Pkey key = load_key(key_pem);
  const bool ok =
      cert && key && X509_check_ca(cert.get()) >= 1 && X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  return ok;
}

Result<std::string> spki_sha256_pin(std::string_view cert_pem) {
  Cert cert = load_cert(cert_pem);
  if (!cert) return fail(ErrorKind::Input, openssl_error("not a PEM certificate"));
  // The DER SubjectPublicKeyInfo (X509_PUBKEY), what `openssl pkey -pubin -outform der` writes.
  unsigned char* der = nullptr;
  const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &der);
  if (n <= 0) return fail(ErrorKind::Internal, openssl_error("cannot encode the SubjectPublicKeyInfo"));
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(der, static_cast<size_t>(n), digest.data());
  OPENSSL_free(der);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (const unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return fail(ErrorKind::Input, "not one line of base64");
  std::string out(text.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return fail(ErrorKind::Input, "not one line of base64");
  size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace kbz::x509
