// Secrets: a type that never prints its value, and one process-wide masker every log line, plan, diff and
// report goes through (pyinfra's MaskString idea).
#pragma once
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kbz {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value);  // registers the value with the global Masker
  // The only way to read the value: name the intent at the call site.
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  static constexpr std::string_view kMask = "***";

 private:
  std::string value_;
};

// Replaces every registered secret value by "***". Thread-safe.
class Masker {
 public:
  static Masker& global();
  void add(std::string_view value);  // values shorter than 4 chars are ignored (would mask everything)
  std::string mask(std::string_view text) const;
  void clear();  // tests only

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> values_;  // longest first, so a secret containing another is masked whole
};

inline std::string mask(std::string_view text) { return Masker::global().mask(text); }

}  // namespace kbz
