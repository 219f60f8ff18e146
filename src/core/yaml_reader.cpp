#include "kbz/core/yaml_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>

namespace kbz::yaml {
namespace {

// Messages quote what the user wrote: control characters (a NUL or newline inside a key, terminal escapes)
// are shown as \xNN so one error stays one line and cannot drive the terminal.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

YAML::Node Reader::load(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    error(e.mark, "YAML syntax: " + e.msg);
    return YAML::Node();
  }
}

void Reader::error(const YAML::Mark& mark, const std::string& message) {
  std::string where = origin_;
  if (!mark.is_null()) where += fmt::format(":{}:{}", mark.line + 1, mark.column + 1);
  errors_.emplace_back(mark.is_null() ? -1 : mark.pos, where + ": " + printable(message));
}

std::vector<std::string> Reader::errors() const {
  auto sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& e : sorted) out.push_back(std::move(e.second));
  return out;
}

std::string Reader::joined_errors() const { return fmt::format("{}", fmt::join(errors(), "\n")); }

std::vector<Entry> Reader::entries(const YAML::Node& node, const Scope& scope,
                                   const std::vector<std::string>& known) {
  std::vector<Entry> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    const std::string what = !scope.in.empty() ? scope.in
                             : scope.prefix.empty()
                                 ? std::string("the file")
                                 : "'" + scope.prefix.substr(0, scope.prefix.size() - 1) + "'";
    error(node.Mark(), what + " must be a mapping of keys");
    return out;
  }
  std::map<std::string, int> seen;
  for (const auto& kv : node) {
    const YAML::Node key = kv.first;
    if (!key.IsScalar()) {
      error(key.Mark(), "a key must be a plain word");
      continue;
    }
    const std::string name = key.Scalar();
    const std::string in = scope.in.empty() ? "" : " in " + scope.in;
    if (const auto [it, fresh] = seen.emplace(name, key.Mark().line + 1); !fresh) {
      error(key.Mark(),
            fmt::format("duplicate key '{}{}'{} (first on line {})", scope.prefix, name, in, it->second));
      continue;
    }
    if (!known.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
      error(key.Mark(),
            fmt::format("unknown key '{}{}'{} (known: {})", scope.prefix, name, in, fmt::join(known, ", ")));
      continue;
    }
    out.push_back(Entry{name, kv.second, key.Mark()});
  }
  return out;
}

Fields Reader::fields(const YAML::Node& node, const Scope& scope, const std::vector<std::string>& known) {
  return Fields(*this, node, scope, entries(node, scope, known));
}

std::optional<std::string> Reader::scalar(const Entry& e, const std::string& key) {
  if (e.value.IsScalar()) return e.value.Scalar();
  error(e.mark(),
        fmt::format("'{}' must be a single value{}", key, e.value.IsNull() ? ", found nothing" : ""));
  return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, YAML::Mark>>> Reader::list(const Entry& e,
                                                                            const std::string& key) {
  std::vector<std::pair<std::string, YAML::Mark>> out;
  if (e.value.IsNull()) return out;
  if (!e.value.IsSequence()) {
    error(e.mark(), fmt::format("'{}' must be a list, e.g. [a, b]", key));
    return std::nullopt;
  }
  for (const auto& item : e.value) {
    if (!item.IsScalar()) {
      error(item.Mark(), fmt::format("each item of '{}' must be a single value", key));
      return std::nullopt;
    }
    out.emplace_back(item.Scalar(), item.Mark());
  }
  return out;
}

Fields::Fields(Reader& reader, YAML::Node node, Scope scope, std::vector<Entry> entries)
    : reader_(&reader), node_(std::move(node)), scope_(std::move(scope)), entries_(std::move(entries)) {
  for (size_t i = 0; i < entries_.size(); ++i) by_name_[entries_[i].name] = i;
}

const Entry* Fields::find(const std::string& key) const {
  const auto it = by_name_.find(key);
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

YAML::Mark Fields::mark(const std::string& key) const {
  if (const Entry* e = find(key)) return e->mark();
  return node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
}

void Fields::error(const std::string& key, const std::string& message) const {
  reader_->error(mark(key), message);
}

std::string Fields::str(const std::string& key, const std::string& fallback) const {
  const Entry* e = find(key);
  if (!e) return fallback;
  if (e->value.IsNull()) return fallback;
  if (!e->value.IsScalar()) {
    reader_->error(e->mark(), fmt::format("'{}' must be a string", key));
    return fallback;
  }
  return e->value.Scalar();
}

std::string Fields::required(const std::string& key) const {
  const Entry* e = find(key);
  if (e && !e->value.IsNull() && !e->value.IsScalar()) return str(key);  // str reports the wrong type
  const std::string v = str(key);
  if (v.empty())
    reader_->error(
        mark(key),
        fmt::format("{} needs '{}'",
                    scope_.owner.empty() ? (scope_.in.empty() ? "this" : scope_.in) : scope_.owner, key));
  return v;
}

int Fields::integer(const std::string& key, int fallback, int min, int max) const {
  const Entry* e = find(key);
  if (!e) return fallback;
  int v = fallback;
  try {
    v = e->value.as<int>();
  } catch (const YAML::Exception&) {
    reader_->error(e->mark(), fmt::format("'{}' must be an integer", key));
    return fallback;
  }
  if (v < min || v > max) {
    reader_->error(e->mark(), fmt::format("'{}' must be {}..{}", key, min, max));
    return fallback;
  }
  return v;
}

bool Fields::boolean(const std::string& key, bool fallback) const {
  const Entry* e = find(key);
  if (!e) return fallback;
  try {
    return e->value.as<bool>();
  } catch (const YAML::Exception&) {
    reader_->error(e->mark(), fmt::format("'{}' must be true or false", key));
    return fallback;
  }
}

std::vector<std::string> Fields::list(const std::string& key) const {
  const Entry* e = find(key);
  if (!e || e->value.IsNull()) return {};
  if (e->value.IsScalar()) return {e->value.Scalar()};
  auto items = reader_->list(*e, key);
  std::vector<std::string> out;
  if (items)
    for (auto& [v, _] : *items) out.push_back(std::move(v));
  return out;
}

std::map<std::string, std::string> Fields::string_map(const std::string& key) const {
  std::map<std::string, std::string> out;
  const Entry* e = find(key);
  if (!e) return out;
  for (const auto& kv : reader_->entries(e->value, Scope{scope_.prefix + key + ".", "", ""}, {})) {
    if (auto v = reader_->scalar(kv, key + "." + kv.name)) out[kv.name] = *v;
  }
  return out;
}

YAML::Node Fields::node(const std::string& key) const {
  const Entry* e = find(key);
  return e ? e->value : YAML::Node();
}

}  // namespace kbz::yaml
