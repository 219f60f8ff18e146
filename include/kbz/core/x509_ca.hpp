// A cluster certificate authority made in process with OpenSSL (no openssl command line: the private key is
// never in argv), and the public-key pin kubeadm checks before it trusts an API server.
//
// kubeadm join's `caCertHashes: ["sha256:<hex>"]` is the SHA-256 of the CA certificate's DER
// SubjectPublicKeyInfo, what `openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum` prints.
// Module 9 generates the CA into credentials/ so the pin is known before any node joins; kubeadm init uses
// a CA it finds in /etc/kubernetes/pki/ca.crt + ca.key instead of making its own.
//
// Credentials are one-line KEY=VALUE values, so PEM texts are stored base64-encoded (no line breaks):
// `base64 -d` on the host gives the PEM back.
#pragma once
#include <string>
#include <string_view>

#include "kbz/core/error.hpp"

namespace kbz::x509 {

// A new RSA 2048-bit private key (kubeadm's default CA key type), PKCS#8 PEM.
Result<std::string> new_rsa_key_pem();

// A self-signed CA certificate for `key_pem` as kubeadm makes its own: CN=<common_name>, basicConstraints
// CA:TRUE (critical), keyUsage digitalSignature, keyEncipherment, keyCertSign (critical), subject key id,
// valid from one hour ago for `days` days, random 128-bit serial, SHA-256 signature. PEM.
Result<std::string> new_self_signed_ca_pem(std::string_view key_pem, std::string_view common_name, int days);

// True when `cert_pem` is a CA certificate (basicConstraints CA:TRUE) whose public key is `key_pem`'s.
bool ca_matches_key(std::string_view cert_pem, std::string_view key_pem);

// "sha256:<64 lowercase hex>" of the certificate's DER SubjectPublicKeyInfo (kubeadm's caCertHashes).
Result<std::string> spki_sha256_pin(std::string_view cert_pem);

// Standard base64, one line, with padding; decode fails on anything else.
std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view text);

}  // namespace kbz::x509
