// module.yaml -> Module. Strict on purpose: an unknown key or a typo'd handler name is an error naming
// module.yaml:LINE:COL, because a silently ignored key is a step that silently does nothing. Every problem of
// the file is reported at once (kbz/core/yaml_reader.hpp). Step kinds read their own keys (step_kind.hpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "kbz/core/yaml_reader.hpp"
#include "kbz/engine/credentials.hpp"
#include "kbz/engine/embedded.hpp"
#include "kbz/engine/module.hpp"
#include "kbz/engine/step_kind.hpp"

namespace kbz {
namespace fs = std::filesystem;
namespace {

using yaml::Fields;
using yaml::Reader;
using yaml::Scope;

std::string article(std::string_view kind) {
  return std::string(kind.empty() || std::string_view("aeiou").find(kind.front()) == std::string_view::npos
                         ? "a "
                         : "an ") +
         std::string(kind);
}

bool matches(const std::string& text, const char* pattern) {
  return std::regex_match(text, std::regex(pattern));
}

class ModuleParser {
 public:
  explicit ModuleParser(Reader& r) : r_(r) {}

  std::vector<YAML::Node> seq(const Fields& f, const std::string& key) {
    std::vector<YAML::Node> out;
    const auto n = f.node(key);
    if (!n.IsDefined() || n.IsNull()) return out;
    if (!n.IsSequence()) {
      f.error(key, fmt::format("'{}' must be a list", key));
      return out;
    }
    for (const auto& item : n) out.push_back(item);
    return out;
  }

  void rolling(const Fields& f, Step& s) {
    if (!f.has("rolling")) return;
    const auto r = f.node("rolling");
    const std::string what = fmt::format("step '{}'", s.id);
    if (!r.IsMap() && !r.IsNull()) {
      r_.error(r.Mark(), fmt::format("{}: rolling must be a mapping (may be empty: {{}})", what));
      return;
    }
    RollingSpec spec;
    const Fields rf = r_.fields(r, Scope{"", "rolling", "rolling"},
                                {"primary_check", "rank", "before_primary", "ready", "ready_timeout"});
    spec.primary_check = rf.str("primary_check");
    spec.rank = rf.str("rank");
    spec.before_primary = rf.str("before_primary");
    spec.ready = rf.str("ready");
    if (rf.has("ready_timeout")) {
      spec.ready_timeout_s = rf.integer("ready_timeout", spec.ready_timeout_s, INT32_MIN, INT32_MAX);
      if (spec.ready_timeout_s < 1 || spec.ready_timeout_s > 3600) {
        rf.error("ready_timeout", fmt::format("{}: rolling.ready_timeout must be 1..3600 s", what));
        spec.ready_timeout_s = 120;
      }
    }
    if (!spec.before_primary.empty() && spec.primary_check.empty())
      rf.error("before_primary", fmt::format("{}: rolling.before_primary needs rolling.primary_check", what));
    s.rolling = spec;
  }

  std::optional<Step> step(const YAML::Node& n) {
    if (!n.IsMap()) {
      r_.error(n.Mark(), "a step must be a mapping of keys");
      return std::nullopt;
    }
    // First the kind: it says which keys the step takes.
    const Fields any = r_.fields(n, Scope{"", "a step", "a step"}, {});
    Step s;
    s.line = n.Mark().line + 1;
    s.id = any.str("id");
    if (s.id.empty()) {
      r_.error(n.Mark(), "a step needs 'id'");
      return std::nullopt;
    }
    if (!matches(s.id, "[a-z0-9][a-z0-9_.-]*"))
      any.error("id", fmt::format("step id '{}' must be lower-case letters, digits, '-', '_', '.'", s.id));
    const std::string what = fmt::format("step '{}'", s.id);
    const std::string kind_name = any.str("kind");
    if (kind_name.empty()) {
      r_.error(n.Mark(), fmt::format("{} needs 'kind'", what));
      return std::nullopt;
    }
    s.kind = find_step_kind(kind_name);
    if (s.kind == nullptr) {
      any.error("kind", fmt::format("{}: unknown kind '{}' ({})", what, kind_name, step_kind_names()));
      return std::nullopt;
    }
    std::vector<std::string> known = common_step_keys();
    for (const auto& k : s.kind->keys()) known.push_back(k);
    if (s.kind->traits().takes_rolling) known.push_back("rolling");
    // A key another kind takes "does not apply" here; a key no kind takes is unknown (a typo).
    std::set<std::string> anywhere(common_step_keys().begin(), common_step_keys().end());
    for (const auto* k : step_kinds()) {
      for (const auto& key : k->keys()) anywhere.insert(key);
      if (k->traits().takes_rolling) anywhere.insert("rolling");
    }
    bool keys_ok = true;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      keys_ok = false;
      if (anywhere.contains(key))
        r_.error(kv.second.Mark(), fmt::format("'{}' does not apply to {} step", key, article(kind_name)));
      else
        r_.error(kv.first.Mark(), fmt::format("unknown key '{}' in {} step (known: {})", key,
                                              article(kind_name), fmt::join(known, ", ")));
    }
    const Fields f = r_.fields(n, Scope{"", article(kind_name) + " step", what}, {});
    s.title = f.str("title", s.id);
    s.title_fr = f.str("title_fr", s.title);
    s.hosts = f.str("hosts");
    s.when = f.str("when");
    if (!s.when.empty() && !matches(s.when, R"(\s*(facts|host|settings)\.[a-z0-9_.]+\s*(==|!=)\s*\S.*)"))
      f.error("when", fmt::format("{}: when must look like 'facts.NAME == VALUE', 'host.role != k8s' or "
                                  "'settings.lab != true'",
                                  what));
    s.notify = f.list("notify");
    s.timeout_s = s.kind->traits().default_timeout_s;
    if (f.has("timeout")) {
      s.timeout_s = f.integer("timeout", s.timeout_s, INT32_MIN, INT32_MAX);
      if (s.timeout_s <= 0) {
        f.error("timeout", fmt::format("{}: timeout must be > 0 seconds", what));
        s.timeout_s = 1;
      }
    }
    s.kind->parse(f, s);
    if (keys_ok && s.kind->traits().takes_rolling) rolling(f, s);
    return s;
  }

  void images(const Fields& root, Module& m) {
    m.images = root.string_map("images");
    const auto node = root.node("images");
    for (const auto& [name, ref] : m.images) {
      // The same rule as kbz.yaml images.*: a version tag or a digest, never :latest or no tag.
      const auto slash = ref.find_last_of('/');
      const auto last = ref.substr(slash == std::string::npos ? 0 : slash + 1);
      if (ref.find("@sha256:") == std::string::npos &&
          (last.find(':') == std::string::npos || last.ends_with(":latest")))
        r_.error(node[name].Mark(),
                 fmt::format("images.{}: '{}' must be pinned (a version tag or @sha256: digest)", name, ref));
    }
  }

  void listens(const Fields& root, Module& m) {
    for (const auto& n : seq(root, "listens")) {
      const Fields f =
          r_.fields(n, Scope{"", "a listen entry", "a listen entry"}, {"port", "proto", "hosts", "owner"});
      Listen l;
      l.port = f.integer("port", 0, 1, 65535);
      if (!f.has("port")) r_.error(n.Mark(), "a listen entry needs 'port'");
      l.proto = f.str("proto", l.proto);
      if (l.proto != "tcp" && l.proto != "udp") f.error("proto", "proto must be tcp or udp");
      l.hosts = f.str("hosts");
      l.owner = f.required("owner");
      m.listens.push_back(std::move(l));
    }
  }

  void credentials(const Fields& root, Module& m) {
    std::set<std::string> keys;
    for (const auto& c : seq(root, "credentials")) {
      const Fields f =
          r_.fields(c, Scope{"", "a credential", "a credential"},
                    {"file", "key", "length", "charset", "generate", "derive", "from", "for_each"});
      CredentialSpec spec;
      spec.file = f.required("file");
      spec.key = f.required("key");
      if (!spec.key.empty() && !matches(spec.key, "[A-Z][A-Z0-9_]*"))
        f.error("key", "credential key must be UPPER_SNAKE_CASE");
      if (!spec.file.empty() && !matches(spec.file, "[a-z0-9][a-z0-9_-]*"))
        f.error("file", "credential file must be a plain name like 'redis'");
      spec.derive = f.str("derive");
      // `generate: rsa-2048` (a private key made by kbz-install, no source) is kept as derive "rsa-2048"
      // with no `from`: like the derived values, it is not a string of random characters.
      if (f.has("generate")) {
        spec.derive = f.str("generate");
        if (spec.derive != "rsa-2048") f.error("generate", "generate must be rsa-2048");
        if (f.has("length") || f.has("charset") || f.has("derive") || f.has("from"))
          r_.error(c.Mark(),
                   fmt::format("credential '{}' is a generated key: no length, charset or derive", spec.key));
      } else if (f.has("derive")) {
        if (!credentials::derivation_named(spec.derive))
          f.error("derive", "derive must be scram-sha-256, x509-ca or spki-sha256");
        if (f.has("length") || f.has("charset"))
          r_.error(c.Mark(), fmt::format("credential '{}' is derived: no length or charset", spec.key));
        spec.from = f.required("from");
        if (!spec.from.empty() && !keys.contains(spec.from))
          f.error("from", fmt::format("credential '{}' derives from '{}', which must be declared before it",
                                      spec.key, spec.from));
      } else {
        if (f.has("from")) f.error("from", "'from' needs 'derive'");
        spec.length = f.integer("length", spec.length, INT32_MIN, INT32_MAX);
        if (spec.length < 16 || spec.length > 256) f.error("length", "credential length must be 16..256");
        spec.charset = f.str("charset", spec.charset);
        if (spec.charset != "alnum" && spec.charset != "hex")
          f.error("charset", "charset must be alnum or hex");
      }
      spec.for_each = f.str("for_each");
      if (f.has("for_each")) {
        const auto list = std::find_if(m.settings.begin(), m.settings.end(), [&](const SettingSpec& d) {
          return d.key == spec.for_each && d.type == SettingType::List;
        });
        if (list == m.settings.end())
          f.error("for_each",
                  fmt::format("credential '{}': for_each must name a list setting of this module", spec.key));
        if (f.has("derive")) f.error("for_each", "for_each and derive do not go together");
      }
      if (!spec.key.empty() && !keys.insert(spec.key).second)
        r_.error(c.Mark(), fmt::format("credential '{}' declared twice", spec.key));
      m.credentials.push_back(spec);
    }
  }

  void settings(const Fields& root, Module& m) {
    static const std::map<std::string, SettingType> types = {
        {"string", SettingType::String}, {"integer", SettingType::Integer}, {"boolean", SettingType::Boolean},
        {"cidr", SettingType::Cidr},     {"ip", SettingType::Ip},           {"list", SettingType::List}};
    std::set<std::string> keys;
    for (const auto& n : seq(root, "settings")) {
      const Fields f = r_.fields(n, Scope{"", "a setting", "a setting"},
                                 {"key", "type", "default", "pattern", "min", "max", "doc_fr"});
      SettingSpec spec;
      spec.module = m.number;
      spec.key = f.required("key");
      if (!spec.key.empty() && !matches(spec.key, "[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+"))
        f.error("key", fmt::format(
                           "setting key '{}' must be dotted lower-case words (e.g. postgres.max_connections)",
                           spec.key));
      const std::string type = f.str("type", "string");
      if (auto t = types.find(type); t != types.end())
        spec.type = t->second;
      else
        f.error(
            "type",
            fmt::format("setting type '{}' is not one of string, integer, boolean, cidr, ip, list", type));
      spec.pattern = f.str("pattern");
      try {
        std::regex check(spec.pattern);
      } catch (const std::regex_error& e) {
        f.error("pattern", fmt::format("setting '{}': pattern is not a valid regex: {}", spec.key, e.what()));
        spec.pattern.clear();
      }
      spec.min = f.integer("min", 0, INT32_MIN, INT32_MAX);
      spec.max = f.integer("max", 0, INT32_MIN, INT32_MAX);
      spec.doc_fr = f.str("doc_fr");
      if (spec.type == SettingType::List)
        spec.default_value = f.list("default");
      else if (f.has("default"))
        spec.default_value = {f.str("default")};
      else
        f.error("key", fmt::format("setting '{}' needs a 'default'", spec.key));
      if (!spec.key.empty() && !keys.insert(spec.key).second)
        f.error("key", fmt::format("setting '{}' declared twice", spec.key));
      m.settings.push_back(std::move(spec));
    }
  }

  void handlers(const Fields& root, Module& m) {
    std::set<std::string> ids;
    for (const auto& n : seq(root, "handlers")) {
      const Fields f = r_.fields(n, Scope{"", "a handler", "a handler"},
                                 {"id", "title", "validate", "command", "reconnect"});
      Handler h;
      h.id = f.required("id");
      h.title = f.str("title", h.id);
      h.validate = f.str("validate");
      h.command = f.required("command");
      h.reconnect = f.boolean("reconnect", false);
      if (!h.id.empty() && !ids.insert(h.id).second)
        f.error("id", fmt::format("handler id '{}' is used twice", h.id));
      m.handlers.push_back(std::move(h));
    }
  }

  void converge(const Fields& root, Module& m) {
    std::set<std::string> ids;
    for (const auto& n : seq(root, "converge")) {
      const Fields f = r_.fields(n, Scope{"", "a converge check", "a converge check"},
                                 {"id", "title", "title_fr", "hosts", "check", "timeout"});
      ConvergeCheck c;
      c.id = f.required("id");
      c.title = f.str("title", c.id);
      c.title_fr = f.str("title_fr", c.title);
      c.hosts = f.str("hosts");
      c.check = f.required("check");
      c.timeout_s = f.integer("timeout", c.timeout_s, 1, 3600);
      if (!c.id.empty() && !ids.insert(c.id).second)
        f.error("id", fmt::format("converge id '{}' is used twice", c.id));
      m.converge.push_back(std::move(c));
    }
  }

  void checks(const Fields& root, Module& m) {
    std::set<std::string> ids;
    for (const auto& n : seq(root, "verify")) {
      const Fields f = r_.fields(n, Scope{"", "a verify check", "a verify check"},
                                 {"id", "title_fr", "component", "hosts", "when", "command", "expect_exit",
                                  "expect_regex", "value_regex", "severity", "lab"});
      VerifyCheck c;
      c.id = f.required("id");
      const std::string what = fmt::format("verify check '{}'", c.id);
      c.title_fr = f.str("title_fr", c.id);
      c.component = f.str("component", m.title_fr);
      c.hosts = f.str("hosts");
      c.when = f.str("when");
      c.command = f.required("command");
      c.expect_exit = f.integer("expect_exit", 0, 0, 255);
      c.expect_regex = f.str("expect_regex");
      c.value_regex = f.str("value_regex");
      for (const char* k : {"expect_regex", "value_regex"}) {
        try {
          std::regex re(f.str(k));
        } catch (const std::regex_error& e) {
          f.error(k, fmt::format("{}: {} is not a valid regex: {}", what, k, e.what()));
        }
      }
      const auto sev = f.str("severity", "error");
      if (sev != "error" && sev != "warning") f.error("severity", "severity must be error or warning");
      c.severity = sev == "warning" ? Severity::Warning : Severity::Error;
      c.lab_untested = f.str("lab");
      if (!c.id.empty() && !ids.insert(c.id).second)
        f.error("id", fmt::format("verify check id '{}' is used twice", c.id));
      m.checks.push_back(std::move(c));
    }
    for (const auto& n : seq(root, "failover")) {
      const Fields f = r_.fields(n, Scope{"", "a failover scenario", "a failover scenario"},
                                 {"id", "kind", "title_fr", "params", "lab"});
      FailoverScenario sc;
      sc.id = f.required("id");
      sc.kind = f.required("kind");
      sc.title_fr = f.str("title_fr", sc.id);
      sc.params = f.string_map("params");
      sc.lab_untested = f.str("lab");
      m.failover.push_back(std::move(sc));
    }
  }

  Module module(const YAML::Node& root) {
    const Fields f = r_.fields(
        root, Scope{"", "module.yaml", "module.yaml"},
        {"number", "id", "title", "title_fr", "doc", "targets", "versions", "images", "ports", "listens",
         "credentials", "settings", "steps", "handlers", "converge", "verify", "failover", "attention_fr"});
    Module m;
    if (!f.has("number")) r_.error(root.Mark(), "module.yaml needs 'number'");
    m.number = f.integer("number", 0, INT32_MIN, INT32_MAX);
    if (f.has("number") && (m.number <= 0 || m.number > 99))
      f.error("number", "number must be between 1 and 99");
    m.id = f.required("id");
    m.title = f.required("title");
    m.title_fr = f.str("title_fr", m.title);
    m.doc = f.str("doc");
    m.targets = f.str("targets", "all");
    m.versions = f.string_map("versions");
    m.ports = f.list("ports");
    m.attention_fr = f.list("attention_fr");
    listens(f, m);
    images(f, m);
    settings(f, m);  // before the credentials: a for_each credential names a list setting
    credentials(f, m);

    std::map<std::string, YAML::Node> step_nodes;
    for (const auto& n : seq(f, "steps")) {
      auto s = step(n);
      if (!s) continue;
      if (step_nodes.contains(s->id)) {
        r_.error(n["id"].Mark(), fmt::format("step id '{}' is used twice", s->id));
        continue;
      }
      step_nodes[s->id] = n;
      m.steps.push_back(std::move(*s));
    }
    handlers(f, m);
    std::set<std::string> handler_ids;
    for (const auto& h : m.handlers) handler_ids.insert(h.id);
    for (const auto& s : m.steps)
      for (size_t i = 0; i < s.notify.size(); ++i)
        if (!handler_ids.contains(s.notify[i])) {
          const auto nn = step_nodes[s.id]["notify"];
          r_.error((nn.IsSequence() ? nn[i] : nn).Mark(),
                   fmt::format("step '{}' notifies '{}', which is not a handler", s.id, s.notify[i]));
        }
    converge(f, m);
    checks(f, m);
    return m;
  }

 private:
  Reader& r_;
};

// Checks that need the whole module (templates folder, images), which a step's own parse cannot see.
Result<void> validate_steps(const Module& m, const std::string& origin) {
  for (const auto& s : m.steps)
    if (auto why = s.kind->validate(s, m); !why.empty())
      return fail(ErrorKind::Input, fmt::format("{}:{}: step '{}': {}", origin, s.line, s.id, why));
  return {};
}

Result<std::string> read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(ErrorKind::Input, fmt::format("cannot read {}", p.string()));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Every module folder name ("02-base-os") from the chosen source, sorted.
Result<std::vector<std::string>> module_folders(const ModuleSource& source) {
  std::set<std::string> names;
  if (source.modules_dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(*source.modules_dir, ec))
      if (e.is_directory() && fs::exists(e.path() / "module.yaml"))
        names.insert(e.path().filename().string());
    if (ec)
      return fail(ErrorKind::Input, fmt::format("--modules-dir {}: {}", *source.modules_dir, ec.message()));
  } else {
    for (const auto& [path, _] : embedded_module_files()) {
      const auto slash = path.find('/');
      if (slash != std::string::npos && path.substr(slash + 1) == "module.yaml")
        names.insert(path.substr(0, slash));
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<Module> load_folder(const std::string& folder, const ModuleSource& source) {
  std::string yaml_text, origin;
  std::map<std::string, std::string> templates;
  if (source.modules_dir) {
    const fs::path dir = fs::path(*source.modules_dir) / folder;
    origin = (dir / "module.yaml").string();
    auto text = read_text(dir / "module.yaml");
    if (!text) return std::unexpected(text.error());
    yaml_text = std::move(*text);
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir / "templates", ec)) {
      if (!e.is_regular_file()) continue;
      auto t = read_text(e.path());
      if (!t) return std::unexpected(t.error());
      templates[fs::relative(e.path(), dir / "templates").string()] = std::move(*t);
    }
  } else {
    origin = fmt::format("embedded:{}/module.yaml", folder);
    const auto& files = embedded_module_files();
    yaml_text = std::string(files.at(folder + "/module.yaml"));
    const std::string prefix = folder + "/templates/";
    for (const auto& [path, text] : files)
      if (path.starts_with(prefix)) templates[path.substr(prefix.size())] = std::string(text);
  }
  auto m = parse_module(yaml_text, origin);
  if (!m) return m;
  m->templates = std::move(templates);
  m->source_dir =
      source.modules_dir ? (fs::path(*source.modules_dir) / folder).string() : "embedded:" + folder;
  if (auto ok = validate_steps(*m, origin); !ok) return std::unexpected(ok.error());
  const auto expected_prefix = fmt::format("{:02d}-", m->number);
  if (!folder.starts_with(expected_prefix))
    return fail(ErrorKind::Input,
                fmt::format("{}: number {} does not match the folder name '{}'", origin, m->number, folder));
  return m;
}

}  // namespace

std::string_view Step::kind_name() const { return kind ? kind->name() : std::string_view("?"); }

Result<Module> parse_module(const std::string& yaml_text, const std::string& origin) {
  Reader r(origin);
  const YAML::Node root = r.load(yaml_text);
  if (!r.ok()) return fail(ErrorKind::Input, r.joined_errors());
  if (!root.IsMap()) {
    r.error(root.Mark(), "module.yaml must be a mapping");
    return fail(ErrorKind::Input, r.joined_errors());
  }
  Module m = ModuleParser(r).module(root);
  if (!r.ok()) return fail(ErrorKind::Input, r.joined_errors());
  return m;
}

Result<Module> load_module(int number, const ModuleSource& source) {
  auto folders = module_folders(source);
  if (!folders) return std::unexpected(folders.error());
  const auto prefix = fmt::format("{:02d}-", number);
  std::string known;
  for (const auto& f : *folders) {
    if (f.starts_with(prefix)) return load_folder(f, source);
    known += (known.empty() ? "" : ", ") + f;
  }
  return fail(ErrorKind::Usage, fmt::format("no module {} ({}; known: {})", number,
                                            source.modules_dir ? *source.modules_dir : "built-in modules",
                                            known.empty() ? "none" : known));
}

Result<std::vector<Module>> load_all_modules(const ModuleSource& source) {
  auto folders = module_folders(source);
  if (!folders) return std::unexpected(folders.error());
  std::vector<Module> out;
  for (const auto& f : *folders) {
    auto m = load_folder(f, source);
    if (!m) return std::unexpected(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

std::vector<SettingSpec> declared_settings(const std::vector<Module>& modules) {
  std::vector<SettingSpec> out;
  for (const auto& m : modules) out.insert(out.end(), m.settings.begin(), m.settings.end());
  return out;
}

Result<std::vector<CredentialItem>> credential_items(const CredentialSpec& spec,
                                                     const std::map<std::string, std::string>& settings) {
  std::vector<CredentialItem> out;
  for (size_t i = 0;; ++i) {
    const auto it = settings.find(spec.for_each + "." + std::to_string(i));
    if (it == settings.end()) break;
    CredentialItem item;
    item.name = it->second.substr(0, it->second.find('='));
    item.key = spec.key + "_";
    for (const char c : item.name)
      item.key += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (item.name.empty() || !matches(item.key, "[A-Z][A-Z0-9_]*"))
      return fail(ErrorKind::Input, fmt::format("{}: item {} ('{}') gives no credential name", spec.for_each,
                                                i + 1, item.name));
    for (const auto& seen : out)
      if (seen.key == item.key)
        return fail(ErrorKind::Input, fmt::format("{}: '{}' is listed twice (or as '{}')", spec.for_each,
                                                  item.name, seen.name));
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace kbz
