// One strict YAML reader for every file a person writes (module.yaml, kbz.yaml): every problem is recorded as
// FILE:LINE:COL: message and reading goes on, so one run reports all of them at once (in file order).
// An unknown or repeated key is an error: a silently ignored key is a setting or a step that does nothing.
#pragma once
#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kbz::yaml {

struct Entry {
  std::string name;
  YAML::Node value;
  YAML::Mark key_mark;
  // Where to point at: an empty value has no position worth showing, its key has.
  YAML::Mark mark() const { return value.IsNull() ? key_mark : value.Mark(); }
};

class Fields;

// How messages name a mapping and its keys: "unknown key '<prefix><name>' in <in> (known: ...)",
// "<owner> needs '<key>'". kbz.yaml uses dotted paths ({"network.", ""}), module.yaml says what the map is
// ({"", "a command step", "step 'redis'"}).
struct Scope {
  std::string prefix;
  std::string in;
  std::string owner;
};

class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}
  const std::string& origin() const { return origin_; }

  // Parses the text; a syntax error is recorded (and an empty node returned).
  YAML::Node load(const std::string& text);

  void error(const YAML::Mark& mark, const std::string& message);
  bool ok() const { return errors_.empty(); }
  std::vector<std::string> errors() const;  // in file order
  std::string joined_errors() const;        // one per line

  // Map entries after checking the node is a map whose keys are plain, known (empty `known` = any) and not
  // repeated. A null node is an empty map.
  std::vector<Entry> entries(const YAML::Node& node, const Scope& scope,
                             const std::vector<std::string>& known);
  // The same, as named fields with typed getters.
  Fields fields(const YAML::Node& node, const Scope& scope, const std::vector<std::string>& known);

  std::optional<std::string> scalar(const Entry& e, const std::string& key);
  // A list of scalars; an empty value is an empty list.
  std::optional<std::vector<std::pair<std::string, YAML::Mark>>> list(const Entry& e, const std::string& key);

 private:
  std::string origin_;
  std::vector<std::pair<long, std::string>> errors_;  // (byte position, message)
};

// The entries of one mapping by name. Getters record an error and return the fallback when the value has
// the wrong type; `required` also when it is absent or empty.
class Fields {
 public:
  Fields(Reader& reader, YAML::Node node, Scope scope, std::vector<Entry> entries);
  Reader& reader() const { return *reader_; }
  const Scope& scope() const { return scope_; }
  const YAML::Node& node() const { return node_; }

  bool has(const std::string& key) const { return by_name_.contains(key); }
  const Entry* find(const std::string& key) const;
  YAML::Mark mark(const std::string& key) const;  // the value's position, or the map's when absent
  void error(const std::string& key, const std::string& message) const;  // at the key's value

  std::string str(const std::string& key, const std::string& fallback = {}) const;
  std::string required(const std::string& key) const;
  int integer(const std::string& key, int fallback, int min, int max) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::vector<std::string> list(const std::string& key) const;  // a scalar is a one-item list
  std::map<std::string, std::string> string_map(const std::string& key) const;
  YAML::Node node(const std::string& key) const;  // null when absent

 private:
  Reader* reader_;
  YAML::Node node_;
  Scope scope_;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> by_name_;
};

}  // namespace kbz::yaml
