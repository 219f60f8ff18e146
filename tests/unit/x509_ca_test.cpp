// Module 9's cluster CA (core/x509_ca.hpp, credentials x509-ca / spki-sha256): the pin kubeadm join checks,
// compared with what the openssl command line computes, on a fixture certificate and on a CA made here.
// tests/fixtures/k8s/ca-fixture.crt was made with `openssl req -x509 -newkey rsa:2048 -subj /CN=kubernetes
// -addext basicConstraints=critical,CA:TRUE` (its key thrown away); ca-fixture.pin is
// `openssl x509 -pubkey -noout -in ca-fixture.crt | openssl pkey -pubin -outform der | sha256sum`.
#include "kbz/core/x509_ca.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "kbz/engine/credentials.hpp"

namespace kbz {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// stdout of a shell command (only ever given file paths we made, never key material).
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 512> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  ::pclose(p);
  return trimmed(out);
}

std::string openssl_pin(const std::string& cert_path) {
  return "sha256:" + run("openssl x509 -pubkey -noout -in '" + cert_path +
                         "' | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1");
}

class X509Ca : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "kbz-x509-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

const std::string kFixtures = std::string(KBZ_SOURCE_DIR) + "/tests/fixtures/k8s/";

TEST_F(X509Ca, PinOfTheFixtureIsWhatOpensslComputes) {
  const auto pin = x509::spki_sha256_pin(slurp(kFixtures + "ca-fixture.crt"));
  ASSERT_TRUE(pin) << pin.error().message;
  EXPECT_EQ(*pin, trimmed(slurp(kFixtures + "ca-fixture.pin")));
  EXPECT_EQ(*pin, openssl_pin(kFixtures + "ca-fixture.crt"));
  EXPECT_TRUE(std::regex_match(*pin, std::regex("sha256:[0-9a-f]{64}")));
}

TEST_F(X509Ca, GeneratedCaIsWhatKubeadmWantsAndItsPinMatchesOpenssl) {
  const auto key = x509::new_rsa_key_pem();
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_TRUE(key->starts_with("-----BEGIN PRIVATE KEY-----"));
  const auto cert = x509::new_self_signed_ca_pem(*key, "kubernetes", 3650);
  ASSERT_TRUE(cert) << cert.error().message;
  const std::string crt = write("ca.crt", *cert);
  const std::string text = run("openssl x509 -noout -text -in '" + crt + "'");
  EXPECT_NE(text.find("Subject: CN = kubernetes"), std::string::npos) << text;
  EXPECT_NE(text.find("Issuer: CN = kubernetes"), std::string::npos);
  EXPECT_NE(text.find("CA:TRUE"), std::string::npos);
  EXPECT_NE(text.find("Certificate Sign"), std::string::npos);
  EXPECT_NE(text.find("Public-Key: (2048 bit)"), std::string::npos);
  EXPECT_NE(text.find("sha256WithRSAEncryption"), std::string::npos);
  // Self-signed and valid now; still valid in 9 years, not in 11.
  EXPECT_EQ(run("openssl verify -CAfile '" + crt + "' '" + crt + "'"), crt + ": OK");
  EXPECT_EQ(run("openssl x509 -noout -checkend 283824000 -in '" + crt + "' >/dev/null && echo ok"), "ok");
  EXPECT_EQ(run("openssl x509 -noout -checkend 346896000 -in '" + crt + "' >/dev/null || echo expires"),
            "expires");

  const auto pin = x509::spki_sha256_pin(*cert);
  ASSERT_TRUE(pin);
  EXPECT_EQ(*pin, openssl_pin(crt));
  // The key matches the certificate; another key does not; a non-CA is not accepted.
  EXPECT_TRUE(x509::ca_matches_key(*cert, *key));
  const auto other = x509::new_rsa_key_pem();
  ASSERT_TRUE(other);
  EXPECT_FALSE(x509::ca_matches_key(*cert, *other));
  EXPECT_FALSE(x509::ca_matches_key("not a cert", *key));
  const std::string leaf_key = dir_ + "/leaf.key", leaf = dir_ + "/leaf.crt";
  run("openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + leaf_key + "' -out '" + leaf +
      "' -subj /CN=leaf -addext basicConstraints=CA:FALSE 2>/dev/null");
  EXPECT_FALSE(x509::ca_matches_key(slurp(leaf), slurp(leaf_key)));
}

TEST_F(X509Ca, BadInputIsAnErrorNotACrash) {
  EXPECT_FALSE(x509::spki_sha256_pin("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  EXPECT_FALSE(x509::new_self_signed_ca_pem("garbage", "kubernetes", 10));
  EXPECT_FALSE(x509::base64_decode("abc"));
  EXPECT_FALSE(x509::base64_decode("a\nbc"));
  const std::string bytes("\x00\x01\xfe\xff pem\n", 9);
  const auto back = x509::base64_decode(x509::base64_encode(bytes));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, bytes);
}

// The credentials chain module 9 declares: key (generated once), CA certificate (derived, kept while it is a
// CA of that key), pin (derived, recomputed when the certificate changes).
TEST_F(X509Ca, CredentialsChainKeepsTheCaAndFollowsAnAdoptedOne) {
  using credentials::Derivation;
  const auto chain = [&] {
    auto key = credentials::ensure_rsa_key(dir_, "k8s-ca", "K8S_CA_KEY");
    EXPECT_TRUE(key) << (key ? "" : key.error().message);
    auto cert = credentials::ensure_derived(dir_, "k8s-ca", "K8S_CA_CERT", Derivation::X509Ca, *key);
    EXPECT_TRUE(cert) << (cert ? "" : cert.error().message);
    auto pin = credentials::ensure_derived(dir_, "k8s-ca", "K8S_CA_CERT_HASH", Derivation::SpkiSha256, *cert);
    EXPECT_TRUE(pin) << (pin ? "" : pin.error().message);
    return std::array<std::string, 3>{key->reveal(), cert->reveal(), pin->reveal()};
  };
  const auto first = chain();
  EXPECT_EQ(chain(), first);  // a second run changes nothing: the pin stays the one nodes joined with
  const auto pem = x509::base64_decode(first[1]);
  ASSERT_TRUE(pem);
  EXPECT_EQ(first[2], openssl_pin(write("from-credentials.crt", *pem)));
  EXPECT_EQ(fs::status(dir_ + "/credentials/k8s-ca.env").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  // Adopting an existing cluster's CA: its key and certificate replace ours; the pin follows.
  auto adopted_key = x509::new_rsa_key_pem();
  ASSERT_TRUE(adopted_key);
  auto adopted = x509::new_self_signed_ca_pem(*adopted_key, "kubernetes", 365);
  ASSERT_TRUE(adopted);
  std::ofstream(dir_ + "/credentials/k8s-ca.env", std::ios::trunc)
      << "K8S_CA_KEY=" << x509::base64_encode(*adopted_key)
      << "\nK8S_CA_CERT=" << x509::base64_encode(*adopted) << "\nK8S_CA_CERT_HASH=" << first[2] << "\n";
  const auto after = chain();
  EXPECT_EQ(after[1], x509::base64_encode(*adopted));  // kept: it is a CA of that key
  EXPECT_EQ(after[2], *x509::spki_sha256_pin(*adopted));
  EXPECT_NE(after[2], first[2]);
}

TEST(X509CaNames, DeriveNames) {
  EXPECT_EQ(credentials::derivation_named("x509-ca"), credentials::Derivation::X509Ca);
  EXPECT_EQ(credentials::derivation_named("spki-sha256"), credentials::Derivation::SpkiSha256);
  EXPECT_EQ(credentials::derivation_named("scram-sha-256"), credentials::Derivation::ScramSha256);
  EXPECT_FALSE(credentials::derivation_named("md5"));
}

}  // namespace
}  // namespace kbz
