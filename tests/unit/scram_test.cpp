#include "kbz/core/scram.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <regex>
#include <string>

namespace kbz {
namespace {

// RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
constexpr const char* kRfcSalt = "\x5b\x6d\x99\x68\x9d\x12\x35\x8e\xec\xa0\x4b\x14\x12\x36\xfa\x81";
constexpr const char* kRfcVerifier =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

std::string b64decode(const std::string& s) {
  std::string out(s.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n) - (s.ends_with("==") ? 2 : s.ends_with("=") ? 1 : 0));
  return out;
}

TEST(Scram, RfcVectorGivesPostgresFormat) {
  auto v = scram_sha256_verifier("pencil", std::string(kRfcSalt, 16), 4096);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, kRfcVerifier);
}

// The RFC gives the server's signature of its exchange: HMAC(ServerKey, AuthMessage) must be it.
TEST(Scram, ServerKeySignsTheRfcExchange) {
  const std::string v = kRfcVerifier;
  const std::string server_key = b64decode(v.substr(v.rfind(':') + 1));
  const std::string auth_message =
      "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  unsigned char sig[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), server_key.data(), static_cast<int>(server_key.size()),
       reinterpret_cast<const unsigned char*>(auth_message.data()), auth_message.size(), sig, &len);
  std::string b64(45, '\0');
  b64.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), sig, 32)));
  EXPECT_EQ(b64, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST(Scram, RandomSaltVerifierMatchesItsPasswordOnly) {
  auto a = scram_sha256_verifier("s3cretPassw0rd");
  auto b = scram_sha256_verifier("s3cretPassw0rd");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // fresh salt each time
  EXPECT_TRUE(std::regex_match(
      *a, std::regex(R"(SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=)")));
  EXPECT_TRUE(scram_sha256_matches(*a, "s3cretPassw0rd"));
  EXPECT_FALSE(scram_sha256_matches(*a, "other"));
  EXPECT_TRUE(scram_sha256_matches(kRfcVerifier, "pencil"));
  EXPECT_FALSE(scram_sha256_matches("md5abc", "pencil"));
  EXPECT_FALSE(scram_sha256_matches("SCRAM-SHA-256$x:y$z:w", "pencil"));
}

}  // namespace
}  // namespace kbz
