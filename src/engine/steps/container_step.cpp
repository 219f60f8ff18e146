#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "kbz/core/text.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/engine/steps/container.hpp"
#include "kbz/engine/steps/image.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

// What the rendered step says, every templated field rendered once (secrets refused: they would reach argv).
struct Rendered {
  std::string name, ref, user;
  std::vector<std::string> command;
  std::vector<Mount> mounts;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> ulimits;
};

Result<Rendered> render(const Step& step, const Module& module, const TemplateContext& ctx) {
  const auto& spec = step.spec_as<ContainerStepSpec>();
  Rendered r;
  const auto field = [&](const std::string& text, const std::string& what) {
    return render_command(text, ctx, fmt::format("step '{}' {}", step.id, what));
  };
  auto name = field(spec.name, "name");
  if (!name) return std::unexpected(name.error());
  r.name = *name;
  auto ref = image_ref(spec.image, module, ctx);
  if (!ref) return fail(ErrorKind::Input, fmt::format("step '{}': {}", step.id, ref.error().message));
  r.ref = *ref;
  auto user = field(spec.run_as, "run_as");
  if (!user) return std::unexpected(user.error());
  r.user = *user;
  for (const auto& arg : spec.command) {
    auto a = field(arg, "command");
    if (!a) return std::unexpected(a.error());
    r.command.push_back(*a);
  }
  for (const auto& m : spec.mounts) {
    auto text = field(m, "mounts");
    if (!text) return std::unexpected(text.error());
    auto parsed = parse_mount(*text);
    if (!parsed) return fail(ErrorKind::Input, fmt::format("step '{}': {}", step.id, parsed.error().message));
    r.mounts.push_back(*parsed);
  }
  for (const auto& [k, v] : spec.env) {
    auto value = field(v, "env." + k);
    if (!value) return std::unexpected(value.error());
    r.env.emplace_back(k, *value);
  }
  // A ulimit may come from a setting ("nofile={{settings.rabbitmq.nofile}}:..."): checked once rendered.
  static const std::regex ulimit_re("[a-z]+=-?[0-9]+(:-?[0-9]+)?");
  for (const auto& u : spec.ulimits) {
    auto text = field(u, "ulimits");
    if (!text) return std::unexpected(text.error());
    if (!std::regex_match(*text, ulimit_re))
      return fail(ErrorKind::Input, fmt::format("step '{}': ulimit '{}' (rendered from '{}') must look like "
                                                "nofile=65536:65536",
                                                step.id, *text, u));
    r.ulimits.push_back(*text);
  }
  return r;
}

// Go templates for `docker inspect -f`, built here so they never pass through mustache.
constexpr const char* kStateFormat =
    "'state={{.State.Status}}\nspec={{index .Config.Labels \"kbz.spec\"}}\nparts={{index .Config.Labels "
    "\"kbz.spec.parts\"}}'";

std::string short_hash(const std::string& text) { return sha256_hex(text).substr(0, 12); }

ContainerSpec spec_of(const ContainerStepSpec& step, const Rendered& r, const ContainerFacts& f) {
  ContainerSpec s;
  s.image = fmt::format("ref={}\nid={}\n", r.ref, f.image_id);
  std::string run = fmt::format("name={}\nuser={}\nnetwork=host\nrestart={}\nlog={}/{}\n", r.name, f.user,
                                step.restart, step.log_max_size, step.log_max_file);
  for (const auto& a : r.command) run += "arg=" + a + "\n";
  for (const auto& m : r.mounts)
    run += fmt::format("mount={}:{}{}\n", m.source, m.target, m.read_only ? ":ro" : "");
  for (const auto& [k, v] : r.env) run += fmt::format("env={}={}\n", k, v);
  for (const auto& u : r.ulimits) run += "ulimit=" + u + "\n";  // only when set: older specs keep their hash
  s.run = run;
  for (const auto& [path, sha] : f.files) s.config += fmt::format("file={} {}\n", sha, path);
  return s;
}

// run_as "UID:GID" is used as it is; an account name is resolved on the host.
// Compiled once: called for every container step on every host.
bool numeric_user(const std::string& user) {
  static const std::regex numeric("[0-9]+:[0-9]+");
  return std::regex_match(user, numeric);
}

std::string user_flag(const std::string& user) {
  if (numeric_user(user)) return shell_quote(user);
  return fmt::format("\"$(id -u {0}):$(id -g {0})\"", shell_quote(user));
}

std::string docker_run(const ContainerStepSpec& step, const Rendered& r, const ContainerSpec& spec) {
  std::string cmd = fmt::format(
      "docker run -d --name {} --network host --user {} --restart {} "
      "--log-driver json-file --log-opt max-size={} --log-opt max-file={} --stop-timeout {} "
      "--label kbz.spec={} --label {}",
      shell_quote(r.name), user_flag(r.user), shell_quote(step.restart), shell_quote(step.log_max_size),
      step.log_max_file, step.stop_timeout_s, spec.hash(), shell_quote("kbz.spec.parts=" + spec.parts()));
  for (const auto& u : r.ulimits) cmd += " --ulimit " + shell_quote(u);
  for (const auto& m : r.mounts)
    cmd += " -v " + shell_quote(fmt::format("{}:{}{}", m.source, m.target, m.read_only ? ":ro" : ""));
  for (const auto& [k, v] : r.env) cmd += " -e " + shell_quote(k + "=" + v);
  cmd += " " + shell_quote(r.ref);
  for (const auto& a : r.command) cmd += " " + shell_quote(a);
  return cmd;
}

// A container that exits right away (bad config, unreadable file) must fail the step with its last logs.
std::string still_running(const std::string& name) {
  return fmt::format(
      "sleep 3; if [ \"$(docker inspect -f '{{{{.State.Running}}}}' {0})\" != true ]; then "
      "echo 'container {0} is not running:'; docker logs --tail 20 {0} 2>&1; exit 1; fi",
      shell_quote(name));
}

}  // namespace

Result<Mount> parse_mount(const std::string& text) {
  std::vector<std::string> f;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ':');) f.push_back(part);
  if (f.size() < 2 || f.size() > 3 || f[0].empty() || f[1].empty() ||
      (f.size() == 3 && f[2] != "ro" && f[2] != "rw"))
    return fail(ErrorKind::Input, fmt::format("mount '{}' must be SRC:DST or SRC:DST:ro", text));
  if (f[0].front() != '/' || f[1].front() != '/')
    return fail(ErrorKind::Input, fmt::format("mount '{}': both paths must be absolute", text));
  return Mount{f[0], f[1], f.size() == 3 && f[2] == "ro"};
}

bool mount_covers(const std::string& source, const std::string& path) {
  namespace fs = std::filesystem;
  // lexically_normal keeps a trailing "/" as an empty last element: drop it so "/a/" and "/a" compare equal.
  const auto normal = [](const std::string& p) {
    std::string n = fs::path(p).lexically_normal().string();
    while (n.size() > 1 && n.back() == '/') n.pop_back();
    return n;
  };
  const std::string s = normal(source), p = normal(path);
  return p == s || (p.starts_with(s) && (s == "/" || p[s.size()] == '/'));
}

std::string ContainerSpec::hash() const {
  return sha256_hex("image\n" + image + "run\n" + run + "config\n" + config);
}

std::string ContainerSpec::parts() const {
  return fmt::format("image={} run={} config={}", short_hash(image), short_hash(run), short_hash(config));
}

ContainerFacts parse_container_check(const std::string& output) {
  ContainerFacts f;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto value = [&](std::string_view key) { return line.substr(key.size()); };
    if (line.starts_with("image_id="))
      f.image_id = value("image_id=");
    else if (line.starts_with("user="))
      f.user = value("user=") == ":" ? "" : value("user=");
    else if (line.starts_with("state="))
      f.state = value("state=");
    else if (line.starts_with("spec="))
      f.spec = value("spec=");
    else if (line.starts_with("parts="))
      f.parts = value("parts=");
    else if (line.starts_with("file ")) {
      const auto rest = value("file ");
      const auto space = rest.find(' ');
      if (space != std::string::npos) f.files.emplace_back(rest.substr(space + 1), rest.substr(0, space));
    }
  }
  if (f.spec == "<no value>") f.spec.clear();
  if (f.parts == "<no value>") f.parts.clear();
  return f;
}

namespace {

class ContainerKind final : public StepKind {
 public:
  std::string_view name() const override { return "container"; }
  std::vector<std::string> keys() const override {
    return {"image",   "name",    "run_as",       "command",      "mounts",      "env",
            "ulimits", "restart", "log_max_size", "log_max_file", "stop_timeout"};
  }
  KindTraits traits() const override { return {.takes_rolling = true, .defers_in_plan = true}; }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto s = std::make_shared<ContainerStepSpec>();
    const std::string what = fmt::format("step '{}'", step.id);
    s->image = f.required("image");
    if (!s->image.empty() && !std::regex_match(s->image, std::regex("[a-z0-9][a-z0-9_-]*")))
      f.error("image", fmt::format("{}: image must name an entry of images: (a-z 0-9 - _)", what));
    s->name = f.required("name");
    s->run_as = f.required("run_as");
    s->command = f.list("command");
    s->mounts = f.list("mounts");
    static const std::regex mount_re("[^:]+:/[^:]*(:ro|:rw)?");
    for (size_t i = 0; i < s->mounts.size(); ++i)
      if (!std::regex_match(s->mounts[i], mount_re) ||
          !(s->mounts[i].front() == '/' || s->mounts[i].starts_with("{{")))
        f.reader().error(f.node("mounts")[i].Mark(),
                         fmt::format("{}: mount '{}' must be /SRC:/DST or /SRC:/DST:ro", what, s->mounts[i]));
    s->env = f.string_map("env");
    s->ulimits = f.list("ulimits");
    for (const auto& u : s->ulimits)
      if (!u.starts_with("{{") &&
          !std::regex_match(
              u, std::regex("[a-z]+=(-?[0-9]+|\\{\\{[^}]+\\}\\})(:(-?[0-9]+|\\{\\{[^}]+\\}\\}))?")))
        f.error("ulimits", fmt::format("{}: ulimit '{}' must look like nofile=65536:65536", what, u));
    s->restart = f.str("restart", s->restart);
    if (s->restart != "unless-stopped" && s->restart != "always" && s->restart != "on-failure" &&
        s->restart != "no")
      f.error("restart", fmt::format("{}: restart must be unless-stopped, always, on-failure or no", what));
    s->log_max_size = f.str("log_max_size", s->log_max_size);
    if (!std::regex_match(s->log_max_size, std::regex("[1-9][0-9]*[kmg]")))
      f.error("log_max_size", fmt::format("{}: log_max_size must look like 20m", what));
    s->log_max_file = f.integer("log_max_file", s->log_max_file, INT32_MIN, INT32_MAX);
    if (s->log_max_file < 1 || s->log_max_file > 100)
      f.error("log_max_file", fmt::format("{}: log_max_file must be 1..100", what));
    s->stop_timeout_s = f.integer("stop_timeout", s->stop_timeout_s, INT32_MIN, INT32_MAX);
    if (s->stop_timeout_s < 1 || s->stop_timeout_s > 3600)
      f.error("stop_timeout", fmt::format("{}: stop_timeout must be 1..3600 s", what));
    step.spec = std::move(s);
  }

  Result<std::string> check(const Step& step, const Module& module,
                            const TemplateContext& ctx) const override {
    auto r = render(step, module, ctx);
    if (!r) return std::unexpected(r.error());
    std::string s = fmt::format(
        "command -v docker >/dev/null 2>&1 || {{ echo 'docker is not installed'; exit 3; }}\n"
        "echo \"image_id=$(docker image inspect -f '{{{{.Id}}}}' {0} 2>/dev/null)\"\n"
        "{1}\n",
        shell_quote(r->ref),
        numeric_user(r->user) ? fmt::format("echo user={}", shell_quote(r->user))
                              : fmt::format("echo \"user=$(id -u {0} 2>/dev/null):$(id -g {0} 2>/dev/null)\"",
                                            shell_quote(r->user)));
    // Read-only mounts are the rendered configs: their content is part of the spec. A folder hashes its
    // files.
    for (const auto& m : r->mounts) {
      if (!m.read_only) continue;
      s += fmt::format(
          "kbz_f={0}; if [ -f \"$kbz_f\" ]; then echo \"file $(sha256sum < \"$kbz_f\" | cut -c1-64) "
          "$kbz_f\"; "
          "elif [ -d \"$kbz_f\" ]; then echo \"file $(cd \"$kbz_f\" && find . -type f -exec sha256sum {{}} + "
          "| LC_ALL=C sort | "
          "sha256sum | cut -c1-64) $kbz_f\"; else echo \"file absent $kbz_f\"; fi\n",
          shell_quote(m.source));
    }
    s += fmt::format("docker inspect -f {} {} 2>/dev/null || echo state=absent", kStateFormat,
                     shell_quote(r->name));
    return s;
  }

  Result<StepDecision> decide(const Step& step, const Module& module, const CheckOutput& c,
                              const TemplateContext& ctx) const override {
    const auto& spec_in = step.spec_as<ContainerStepSpec>();
    auto r = render(step, module, ctx);
    if (!r) return std::unexpected(r.error());
    // Plan: an earlier file step rewriting one of these means apply re-checks and recreates this container.
    StepDecision d;
    for (const auto& m : r->mounts)
      if (m.read_only) d.watched_paths.push_back(m.source);
    d.watch_message = fmt::format("recreate {}: mounted config", r->name);
    if (c.exit_status != 0)
      return fail(ErrorKind::Remote, fmt::format("step '{}': check failed (exit {}): {}", step.id,
                                                 c.exit_status, c.output.substr(0, c.output.find('\n'))));
    const ContainerFacts f = parse_container_check(c.output);
    if (f.image_id.empty())
      return fail(ErrorKind::Remote,
                  fmt::format("step '{}': image {} is not on the host (an image step must come first)",
                              step.id, r->ref));
    if (f.user.empty())
      return fail(ErrorKind::Remote,
                  fmt::format("step '{}': host account '{}' does not exist", step.id, r->user));
    for (const auto& [path, sha] : f.files)
      if (sha == "absent")
        return fail(ErrorKind::Remote,
                    fmt::format("step '{}': mounted file {} does not exist", step.id, path));

    const ContainerSpec spec = spec_of(spec_in, *r, f);
    if (f.state == "running" && f.spec == spec.hash()) return d;

    d.change = true;
    if (f.state.empty() || f.state == "absent") {
      d.message = fmt::format("create {} from {}", r->name, r->ref);
      d.apply.command = "set -e\n" + docker_run(spec_in, *r, spec) + " >/dev/null\n" + still_running(r->name);
      return d;
    }
    // Only a container that is up is what `rolling:` protects. A stopped one (created, exited, dead) serves
    // nothing: starting or recreating it goes at once on every host, so a cluster whose containers never
    // started (or all stopped) comes up together instead of waiting for a quorum one node cannot make.
    d.existing = f.state != "created" && f.state != "exited" && f.state != "dead";
    if (f.spec == spec.hash()) {
      d.message = fmt::format("start {} (was {})", r->name, f.state);
      d.apply.command =
          fmt::format("set -e\ndocker start {} >/dev/null\n{}", shell_quote(r->name), still_running(r->name));
      return d;
    }
    // Say what changed, from the per-part hashes stored at creation.
    std::vector<std::string> what;
    const std::string want = spec.parts();
    for (const char* part : {"image", "run", "config"}) {
      const std::string key = std::string(part) + "=";
      const auto value_in = [&](const std::string& parts) {
        const auto at = parts.find(key);
        return at == std::string::npos ? std::string{} : parts.substr(at + key.size(), 12);
      };
      if (value_in(f.parts) != value_in(want))
        what.push_back(std::string(part) == "image" ? "image"
                       : std::string(part) == "run" ? "command/mounts/env/user"
                                                    : "mounted config");
    }
    d.message = fmt::format("recreate {}: {} changed", r->name,
                            what.empty() ? std::string("spec") : fmt::format("{}", fmt::join(what, ", ")));
    d.apply.command = fmt::format(
        "set -e\ndocker stop -t {1} {0} >/dev/null\ndocker rm {0} >/dev/null\n{2} >/dev/null\n{3}",
        shell_quote(r->name), spec_in.stop_timeout_s, docker_run(spec_in, *r, spec), still_running(r->name));
    return d;
  }

  std::string describe_fr(const Step& step, const Module&) const override {
    const auto& s = step.spec_as<ContainerStepSpec>();
    return fmt::format("conteneur {}, image {}, compte {}{}", md_code(s.name), md_code("images." + s.image),
                       md_code(s.run_as),
                       !step.rolling ? ""
                       : !step.rolling->primary_check.empty()
                           ? " ; recréé un serveur à la fois, le principal en dernier"
                           : " ; recréé un serveur à la fois");
  }
};

}  // namespace

const StepKind& container_step_kind() {
  static const ContainerKind kind;
  return kind;
}

}  // namespace kbz
