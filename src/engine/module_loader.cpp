// module.yaml -> Module. Strict on purpose: an unknown key or a typo'd handler name is an error naming
// module.yaml:LINE:COL, because a silently ignored key is a step that silently does nothing.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "kbz/engine/embedded.hpp"
#include "kbz/engine/module.hpp"

namespace kbz {
namespace fs = std::filesystem;
namespace {

// Thrown inside the parser only; parse_module turns it into a Result.
struct LoadError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void error(const YAML::Node& node, const std::string& message) const {
    const auto m = node.Mark();
    throw LoadError{fmt::format("{}:{}:{}: {}", origin_, m.line + 1, m.column + 1, message)};
  }

  void only_keys(const YAML::Node& map, std::initializer_list<const char*> allowed, const char* what) const {
    if (!map.IsMap()) error(map, fmt::format("{} must be a mapping", what));
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
        std::string known;
        for (const char* a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        error(kv.first, fmt::format("unknown key '{}' in {} (known: {})", key, what, known));
      }
    }
  }

  std::string str(const YAML::Node& map, const char* key, const std::string& fallback = {}) const {
    const auto n = map[key];
    if (!n) return fallback;
    if (!n.IsScalar()) error(n, fmt::format("'{}' must be a string", key));
    return n.as<std::string>();
  }

  std::string required(const YAML::Node& map, const char* key, const std::string& what) const {
    const auto v = str(map, key);
    if (v.empty()) error(map, fmt::format("{} needs '{}'", what, key));
    return v;
  }

  int integer(const YAML::Node& map, const char* key, int fallback) const {
    const auto n = map[key];
    if (!n) return fallback;
    try {
      return n.as<int>();
    } catch (const YAML::Exception&) {
      error(n, fmt::format("'{}' must be an integer", key));
    }
  }

  bool boolean(const YAML::Node& map, const char* key, bool fallback) const {
    const auto n = map[key];
    if (!n) return fallback;
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      error(n, fmt::format("'{}' must be true or false", key));
    }
  }

  std::vector<std::string> list(const YAML::Node& map, const char* key) const {
    std::vector<std::string> out;
    const auto n = map[key];
    if (!n) return out;
    if (n.IsScalar()) return {n.as<std::string>()};
    if (!n.IsSequence()) error(n, fmt::format("'{}' must be a list", key));
    for (const auto& item : n) {
      if (!item.IsScalar()) error(item, fmt::format("'{}' items must be strings", key));
      out.push_back(item.as<std::string>());
    }
    return out;
  }

  std::map<std::string, std::string> string_map(const YAML::Node& map, const char* key) const {
    std::map<std::string, std::string> out;
    const auto n = map[key];
    if (!n) return out;
    if (!n.IsMap()) error(n, fmt::format("'{}' must be a mapping", key));
    for (const auto& kv : n) {
      if (!kv.second.IsScalar()) error(kv.second, fmt::format("'{}.{}' must be a string", key, kv.first.as<std::string>()));
      out[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
    return out;
  }

  std::vector<YAML::Node> seq(const YAML::Node& root, const char* key) const {
    std::vector<YAML::Node> out;
    const auto n = root[key];
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) error(n, fmt::format("'{}' must be a list", key));
    for (const auto& item : n) out.push_back(item);
    return out;
  }

  Step step(const YAML::Node& n) const {
    only_keys(n, {"id", "title", "title_fr", "kind", "hosts", "when", "notify", "timeout", "path", "template",
                  "content", "mode", "owner", "packages", "check", "apply", "service", "state", "enabled",
                  "image", "name", "run_as", "command", "mounts", "env", "restart", "log_max_size",
                  "log_max_file", "stop_timeout", "rolling"},
              "a step");
    Step s;
    s.line = n.Mark().line + 1;
    s.id = required(n, "id", "a step");
    static const std::regex id_re("[a-z0-9][a-z0-9_.-]*");
    if (!std::regex_match(s.id, id_re)) error(n["id"], fmt::format("step id '{}' must be lower-case letters, digits, '-', '_', '.'", s.id));
    const std::string what = fmt::format("step '{}'", s.id);
    s.title = str(n, "title", s.id);
    s.title_fr = str(n, "title_fr", s.title);
    const std::string kind = required(n, "kind", what);
    s.hosts = str(n, "hosts");
    s.when = str(n, "when");
    static const std::regex when_re(R"(\s*(facts|host)\.[a-z0-9_]+\s*(==|!=)\s*\S.*)");
    if (!s.when.empty() && !std::regex_match(s.when, when_re))
      error(n["when"], fmt::format("{}: when must look like 'facts.NAME == VALUE' or 'host.role != k8s'", what));
    s.notify = list(n, "notify");
    s.timeout_s = integer(n, "timeout", s.timeout_s);
    if (s.timeout_s <= 0) error(n["timeout"], fmt::format("{}: timeout must be > 0 seconds", what));
    auto forbid = [&](std::initializer_list<const char*> keys) {
      for (const char* k : keys)
        if (n[k]) error(n[k], fmt::format("'{}' does not apply to a {} step", k, kind));
    };
    if (kind == "file") {
      s.kind = StepKind::File;
      s.path = required(n, "path", what);
      if (s.path.front() != '/' && !s.path.starts_with("{{")) error(n["path"], fmt::format("{}: path must be absolute", what));
      s.template_name = str(n, "template");
      s.content = str(n, "content");
      if (s.template_name.empty() == !n["content"])
        error(n, fmt::format("{}: a file step needs exactly one of 'template' or 'content'", what));
      s.mode = str(n, "mode", s.mode);
      static const std::regex mode_re("0?[0-7]{3,4}");
      if (!std::regex_match(s.mode, mode_re)) error(n["mode"], fmt::format("{}: mode must be octal like \"0644\"", what));
      s.owner = str(n, "owner", s.owner);
      static const std::regex owner_re("[a-z_][a-z0-9_.-]*:[a-z_][a-z0-9_.-]*");
      if (!std::regex_match(s.owner, owner_re)) error(n["owner"], fmt::format("{}: owner must be user:group", what));
      forbid({"packages", "check", "apply", "service", "state", "enabled"});
    } else if (kind == "packages") {
      s.kind = StepKind::Packages;
      s.packages = list(n, "packages");
      if (s.packages.empty()) error(n, fmt::format("{} needs a non-empty 'packages' list", what));
      static const std::regex pkg_re("[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:{}-]+)?");
      for (const auto& p : s.packages)
        if (!std::regex_match(p, pkg_re))
          error(n["packages"], fmt::format("{}: '{}' is not a package name (name or name=version)", what, p));
      forbid({"path", "template", "content", "mode", "owner", "check", "apply", "service", "state", "enabled"});
    } else if (kind == "command") {
      s.kind = StepKind::Command;
      s.check = required(n, "check", what);
      s.apply = required(n, "apply", what);
      forbid({"path", "template", "content", "mode", "owner", "packages", "service", "state", "enabled"});
    } else if (kind == "service") {
      s.kind = StepKind::Service;
      s.service = required(n, "service", what);
      s.state = str(n, "state", s.state);
      if (s.state != "started" && s.state != "stopped")
        error(n["state"], fmt::format("{}: state must be started or stopped", what));
      s.enabled = boolean(n, "enabled", s.enabled);
      forbid({"path", "template", "content", "mode", "owner", "packages", "check", "apply"});
    } else if (kind == "wait") {
      s.kind = StepKind::Wait;
      s.check = required(n, "check", what);
      if (!n["timeout"]) s.timeout_s = 60;
      forbid({"path", "template", "content", "mode", "owner", "packages", "apply", "service", "state", "enabled"});
    } else if (kind == "container" || kind == "image") {
      container_or_image(n, s, kind, what);
    } else {
      error(n["kind"], fmt::format("{}: unknown kind '{}' (file, packages, command, service, wait, container, image)", what, kind));
    }
    if (kind != "container" && kind != "image")
      for (const char* k : {"image", "name", "run_as", "command", "mounts", "env", "restart", "log_max_size",
                            "log_max_file", "stop_timeout", "rolling"})
        if (n[k]) error(n[k], fmt::format("'{}' does not apply to a {} step", k, kind));
    return s;
  }

  // Container and image steps (ARCHITECTURE.md, "container and image steps").
  void container_or_image(const YAML::Node& n, Step& s, const std::string& kind, const std::string& what) const {
    static const std::regex name_re("[a-z0-9][a-z0-9_-]*");
    s.image = required(n, "image", what);
    if (!std::regex_match(s.image, name_re)) error(n["image"], fmt::format("{}: image must name an entry of images: (a-z 0-9 - _)", what));
    for (const char* k : {"path", "template", "content", "mode", "owner", "packages", "check", "apply", "service", "state", "enabled"})
      if (n[k]) error(n[k], fmt::format("'{}' does not apply to a {} step", k, kind));
    if (kind == "image") {
      s.kind = StepKind::Image;
      for (const char* k : {"name", "run_as", "command", "mounts", "env", "restart", "log_max_size", "log_max_file", "stop_timeout", "rolling"})
        if (n[k]) error(n[k], fmt::format("'{}' does not apply to an image step", k));
      return;
    }
    s.kind = StepKind::Container;
    s.container_name = required(n, "name", what);
    s.run_as = required(n, "run_as", what);
    s.command = list(n, "command");
    s.mounts = list(n, "mounts");
    for (size_t i = 0; i < s.mounts.size(); ++i) {
      static const std::regex mount_re("[^:]+:/[^:]*(:ro|:rw)?");
      if (!std::regex_match(s.mounts[i], mount_re) || !(s.mounts[i].front() == '/' || s.mounts[i].starts_with("{{")))
        error(n["mounts"][i], fmt::format("{}: mount '{}' must be /SRC:/DST or /SRC:/DST:ro", what, s.mounts[i]));
    }
    s.env = string_map(n, "env");
    s.restart = str(n, "restart", s.restart);
    if (s.restart != "unless-stopped" && s.restart != "always" && s.restart != "on-failure" && s.restart != "no")
      error(n["restart"], fmt::format("{}: restart must be unless-stopped, always, on-failure or no", what));
    s.log_max_size = str(n, "log_max_size", s.log_max_size);
    static const std::regex size_re("[1-9][0-9]*[kmg]");
    if (!std::regex_match(s.log_max_size, size_re)) error(n["log_max_size"], fmt::format("{}: log_max_size must look like 20m", what));
    s.log_max_file = integer(n, "log_max_file", s.log_max_file);
    if (s.log_max_file < 1 || s.log_max_file > 100) error(n["log_max_file"], fmt::format("{}: log_max_file must be 1..100", what));
    s.stop_timeout_s = integer(n, "stop_timeout", s.stop_timeout_s);
    if (s.stop_timeout_s < 1 || s.stop_timeout_s > 3600) error(n["stop_timeout"], fmt::format("{}: stop_timeout must be 1..3600 s", what));
    if (const auto r = n["rolling"]) {
      if (!r.IsMap() && !r.IsNull()) error(r, fmt::format("{}: rolling must be a mapping (may be empty: {{}})", what));
      RollingSpec spec;
      if (r.IsMap()) {
        only_keys(r, {"primary_check", "before_primary", "ready", "ready_timeout"}, "rolling");
        spec.primary_check = str(r, "primary_check");
        spec.before_primary = str(r, "before_primary");
        spec.ready = str(r, "ready");
        spec.ready_timeout_s = integer(r, "ready_timeout", spec.ready_timeout_s);
        if (spec.ready_timeout_s < 1 || spec.ready_timeout_s > 3600)
          error(r["ready_timeout"], fmt::format("{}: rolling.ready_timeout must be 1..3600 s", what));
        if (!spec.before_primary.empty() && spec.primary_check.empty())
          error(r["before_primary"], fmt::format("{}: rolling.before_primary needs rolling.primary_check", what));
      }
      s.rolling = spec;
    }
  }

  Module module(const YAML::Node& root) const {
    only_keys(root, {"number", "id", "title", "title_fr", "doc", "targets", "versions", "images", "ports", "credentials",
                     "steps", "handlers", "verify", "failover"},
              "module.yaml");
    Module m;
    if (!root["number"]) error(root, "module.yaml needs 'number'");
    m.number = integer(root, "number", 0);
    if (m.number <= 0 || m.number > 99) error(root["number"], "number must be between 1 and 99");
    m.id = required(root, "id", "module.yaml");
    m.title = required(root, "title", "module.yaml");
    m.title_fr = str(root, "title_fr", m.title);
    m.doc = str(root, "doc");
    m.targets = str(root, "targets", "all");
    m.versions = string_map(root, "versions");
    m.ports = list(root, "ports");
    m.images = string_map(root, "images");
    for (const auto& [name, ref] : m.images) {
      // The same rule as kbz.yaml images.*: a version tag or a digest, never :latest or no tag.
      const auto last = ref.substr(ref.find_last_of('/') == std::string::npos ? 0 : ref.find_last_of('/') + 1);
      if (ref.find("@sha256:") == std::string::npos && (last.find(':') == std::string::npos || last.ends_with(":latest")))
        error(root["images"][name], fmt::format("images.{}: '{}' must be pinned (a version tag or @sha256: digest)", name, ref));
    }

    std::set<std::string> cred_keys;
    for (const auto& c : seq(root, "credentials")) {
      only_keys(c, {"file", "key", "length", "charset"}, "a credential");
      CredentialSpec spec;
      spec.file = required(c, "file", "a credential");
      spec.key = required(c, "key", "a credential");
      static const std::regex key_re("[A-Z][A-Z0-9_]*"), file_re("[a-z0-9][a-z0-9_-]*");
      if (!std::regex_match(spec.key, key_re)) error(c["key"], "credential key must be UPPER_SNAKE_CASE");
      if (!std::regex_match(spec.file, file_re)) error(c["file"], "credential file must be a plain name like 'redis'");
      spec.length = integer(c, "length", spec.length);
      if (spec.length < 16 || spec.length > 256) error(c["length"], "credential length must be 16..256");
      spec.charset = str(c, "charset", spec.charset);
      if (spec.charset != "alnum" && spec.charset != "hex") error(c["charset"], "charset must be alnum or hex");
      if (!cred_keys.insert(spec.key).second) error(c, fmt::format("credential '{}' declared twice", spec.key));
      m.credentials.push_back(spec);
    }

    std::map<std::string, YAML::Node> step_nodes;
    for (const auto& n : seq(root, "steps")) {
      Step s = step(n);
      if (step_nodes.contains(s.id)) error(n["id"], fmt::format("step id '{}' is used twice", s.id));
      step_nodes[s.id] = n;
      if ((s.kind == StepKind::Container || s.kind == StepKind::Image) && m.images.contains(s.image))
        s.default_image = m.images.at(s.image);
      m.steps.push_back(std::move(s));
    }
    std::set<std::string> handler_ids;
    for (const auto& n : seq(root, "handlers")) {
      only_keys(n, {"id", "title", "validate", "command", "reconnect"}, "a handler");
      Handler h;
      h.id = required(n, "id", "a handler");
      h.title = str(n, "title", h.id);
      h.validate = str(n, "validate");
      h.command = required(n, "command", fmt::format("handler '{}'", h.id));
      h.reconnect = boolean(n, "reconnect", false);
      if (!handler_ids.insert(h.id).second) error(n["id"], fmt::format("handler id '{}' is used twice", h.id));
      m.handlers.push_back(std::move(h));
    }
    for (const auto& s : m.steps)
      for (size_t i = 0; i < s.notify.size(); ++i)
        if (!handler_ids.contains(s.notify[i])) {
          const auto nn = step_nodes[s.id]["notify"];
          error(nn.IsSequence() ? nn[i] : nn, fmt::format("step '{}' notifies '{}', which is not a handler", s.id, s.notify[i]));
        }

    std::set<std::string> check_ids;
    for (const auto& n : seq(root, "verify")) {
      only_keys(n, {"id", "title_fr", "component", "hosts", "when", "command", "expect_exit", "expect_regex",
                    "value_regex", "severity"},
                "a verify check");
      VerifyCheck c;
      c.id = required(n, "id", "a verify check");
      const std::string what = fmt::format("verify check '{}'", c.id);
      c.title_fr = str(n, "title_fr", c.id);
      c.component = str(n, "component", m.title_fr);
      c.hosts = str(n, "hosts");
      c.when = str(n, "when");
      c.command = required(n, "command", what);
      c.expect_exit = integer(n, "expect_exit", 0);
      c.expect_regex = str(n, "expect_regex");
      c.value_regex = str(n, "value_regex");
      for (const char* k : {"expect_regex", "value_regex"}) {
        try {
          std::regex re(str(n, k));
        } catch (const std::regex_error& e) {
          error(n[k], fmt::format("{}: {} is not a valid regex: {}", what, k, e.what()));
        }
      }
      const auto sev = str(n, "severity", "error");
      if (sev != "error" && sev != "warning") error(n["severity"], "severity must be error or warning");
      c.severity = sev == "warning" ? Severity::Warning : Severity::Error;
      if (!check_ids.insert(c.id).second) error(n["id"], fmt::format("verify check id '{}' is used twice", c.id));
      m.checks.push_back(std::move(c));
    }
    for (const auto& n : seq(root, "failover")) {
      only_keys(n, {"id", "kind", "title_fr", "params"}, "a failover scenario");
      FailoverScenario f;
      f.id = required(n, "id", "a failover scenario");
      f.kind = required(n, "kind", fmt::format("failover scenario '{}'", f.id));
      f.title_fr = str(n, "title_fr", f.id);
      f.params = string_map(n, "params");
      m.failover.push_back(std::move(f));
    }
    return m;
  }

 private:
  std::string origin_;
};

// Checks that need the templates folder, which parse_module does not see.
Result<void> check_templates(const Module& m, const std::string& origin) {
  for (const auto& s : m.steps)
    if (s.kind == StepKind::File && !s.template_name.empty() && !m.templates.contains(s.template_name))
      return fail(ErrorKind::Input, fmt::format("{}:{}: step '{}': template '{}' not found in templates/", origin,
                                                s.line, s.id, s.template_name));
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
      if (e.is_directory() && fs::exists(e.path() / "module.yaml")) names.insert(e.path().filename().string());
    if (ec) return fail(ErrorKind::Input, fmt::format("--modules-dir {}: {}", *source.modules_dir, ec.message()));
  } else {
    for (const auto& [path, _] : embedded_module_files()) {
      const auto slash = path.find('/');
      if (slash != std::string::npos && path.substr(slash + 1) == "module.yaml") names.insert(path.substr(0, slash));
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
  m->source_dir = source.modules_dir ? (fs::path(*source.modules_dir) / folder).string() : "embedded:" + folder;
  if (auto ok = check_templates(*m, origin); !ok) return std::unexpected(ok.error());
  const auto expected_prefix = fmt::format("{:02d}-", m->number);
  if (!folder.starts_with(expected_prefix))
    return fail(ErrorKind::Input, fmt::format("{}: number {} does not match the folder name '{}'", origin, m->number, folder));
  return m;
}

}  // namespace

Result<Module> parse_module(const std::string& yaml_text, const std::string& origin) {
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    Parser p(origin);
    if (!root.IsMap()) p.error(root, "module.yaml must be a mapping");
    return p.module(root);
  } catch (const LoadError& e) {
    return fail(ErrorKind::Input, e.message);
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::Input, fmt::format("{}:{}:{}: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
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

}  // namespace kbz
