#include "kbz/core/secret.hpp"

#include <algorithm>

namespace kbz {

Secret::Secret(std::string value) : value_(std::move(value)) { Masker::global().add(value_); }

Masker& Masker::global() {
  static Masker instance;
  return instance;
}

void Masker::add(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard lock(mutex_);
  if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
  values_.emplace_back(value);
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Masker::mask(std::string_view text) const {
  std::string out(text);
  std::lock_guard lock(mutex_);
  for (const auto& v : values_) {
    for (size_t pos = out.find(v); pos != std::string::npos; pos = out.find(v, pos + Secret::kMask.size())) {
      out.replace(pos, v.size(), Secret::kMask);
    }
  }
  return out;
}

void Masker::clear() {
  std::lock_guard lock(mutex_);
  values_.clear();
}

}  // namespace kbz
