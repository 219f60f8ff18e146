// libFuzzer target for the kbz.yaml reader: whatever the bytes, parse_settings returns a value or an error
// (yaml-cpp exceptions must never escape), every error line names the file, and a success has a raw map.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "kbz/engine/settings.hpp"

namespace {
void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto r = kbz::parse_settings(text, "kbz.yaml");
  if (r) {
    require(r->raw.count("timezone") == 1 && r->raw.count("network.private_cidr") == 1, "raw map filled");
    for (const auto& ref : r->images) {
      require(!ref.second.ends_with(":latest"), "no :latest image accepted");
    }
  } else {
    require(r.error().kind == kbz::ErrorKind::Input, "bad input is an Input error");
    std::istringstream lines(r.error().message);
    for (std::string line; std::getline(lines, line);)
      require(line.starts_with("kbz.yaml"), "errors name the file");
  }
  return 0;
}
