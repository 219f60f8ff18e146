#include "kbz/run/run.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <thread>

#include "kbz/core/interrupt.hpp"
#include "kbz/core/run_log.hpp"
#include "kbz/engine/steps/volume.hpp"
#include "kbz/engine/templates.hpp"

namespace kbz {

Run::Run(const GlobalOptions& options) : options_(options) {}

Run::~Run() {
  if (pool_) pool_->close_all();
  close_run_log();
}

Result<std::unique_ptr<Run>> Run::open(const GlobalOptions& g, std::string_view command, NeedsModules needs) {
  std::unique_ptr<Run> run(new Run(g));
  auto parsed = load_inventory(g.inventory);
  if (!parsed.ok()) {
    std::vector<std::string> lines;
    for (const auto& d : parsed.errors) lines.push_back(d.format());
    return fail(ErrorKind::Input, fmt::format("{}", fmt::join(lines, "\n")));
  }
  run->inventory_ = std::move(parsed.inventory);
  run->targets_ = kbz::targets(run->inventory_, g.target_options());

  if (needs == NeedsModules::Yes) {
    ModuleSource source;
    if (!g.modules_dir.empty()) source.modules_dir = g.modules_dir;
    auto modules = load_all_modules(source);
    if (!modules) return std::unexpected(modules.error());
    run->modules_ = std::move(*modules);
    // The default kbz.yaml may be absent (= defaults); a file named on the command line must exist.
    const bool named = g.config_given || g.config != GlobalOptions{}.config;
    auto settings = load_settings(g.config, named ? IfMissing::Fail : IfMissing::UseDefaults,
                                  declared_settings(run->modules_));
    if (!settings) return std::unexpected(settings.error());
    if (auto one = check_one_volume_per_host(settings->volumes, run->inventory_.rows, settings->path); !one)
      return std::unexpected(one.error());
    run->settings_ = std::move(*settings);
    for (auto& m : run->modules_) render_versions(m, run->settings_.raw);
  }

  run->pool_ = std::make_unique<SessionPool>(g.connect_options());
  if (auto ok = run->open_log(command); !ok) return std::unexpected(ok.error());
  return run;
}

Result<void> Run::open_log(std::string_view command) {
  auto path = open_run_log(options_.workdir, command);
  if (!path) return fail(ErrorKind::Io, fmt::format("no run log: {}", path.error().message));
  log_path_ = *path;
  return {};
}

std::string Run::log_relative() const {
  return std::filesystem::path(log_path_).lexically_relative(options_.workdir).string();
}

Result<const Module*> Run::module(int number) const {
  for (const auto& m : modules_)
    if (m.number == number) return &m;
  std::vector<std::string> known;
  for (const auto& m : modules_) known.push_back(fmt::format("{:02d}-{}", m.number, m.id));
  return fail(ErrorKind::Usage,
              fmt::format("no module {} ({}; known: {})", number,
                          options_.modules_dir.empty() ? "built-in modules" : options_.modules_dir,
                          known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
}

const Module* Run::next_module(int number) const {
  const Module* next = nullptr;
  for (const auto& m : modules_)
    if (m.number > number && (!next || m.number < next->number)) next = &m;
  return next;
}

Result<std::vector<Host>> module_hosts(const Module& m, const std::vector<Host>& targets,
                                       std::string_view cli_selector) {
  std::vector<Host> hosts = targets;
  if (!m.targets.empty() && m.targets != "all") {
    auto sel = select_hosts(targets, m.targets);
    if (!sel)
      return fail(ErrorKind::Input,
                  fmt::format("module {} targets '{}': {}", m.number, m.targets, sel.error().message));
    hosts = std::move(*sel);
  }
  if (!cli_selector.empty()) {
    auto sel = select_hosts(targets, cli_selector);
    if (!sel) return fail(ErrorKind::Usage, sel.error().message);
    std::vector<Host> narrowed;
    for (const auto& h : *sel)
      if (std::any_of(hosts.begin(), hosts.end(), [&](const Host& x) { return x.hostname == h.hostname; }))
        narrowed.push_back(h);
    if (narrowed.empty())
      return fail(ErrorKind::Usage,
                  fmt::format("--hosts {}: none of these hosts is a target of module {} (targets: {})",
                              cli_selector, m.number, m.targets));
    hosts = std::move(narrowed);
  }
  if (hosts.empty()) return fail(ErrorKind::Usage, fmt::format("module {}: no target host", m.number));
  return hosts;
}

Result<std::vector<Host>> Run::hosts_for(const Module& m) const {
  auto hosts = module_hosts(m, targets_, options_.hosts);
  if (!hosts && hosts.error().message.ends_with("no target host"))
    return fail(ErrorKind::Usage, hosts.error().message + " in " + options_.inventory);
  return hosts;
}

Result<std::vector<Host>> Run::selected_hosts() const {
  if (options_.hosts.empty()) {
    if (targets_.empty())
      return fail(ErrorKind::Usage,
                  fmt::format("{}: no target host has ENV '{}'", options_.inventory, options_.env));
    return targets_;
  }
  auto sel = select_hosts(targets_, options_.hosts);
  if (!sel) return fail(ErrorKind::Usage, sel.error().message);
  return *sel;
}

Result<void> Run::lock_workdir(const std::string& what, std::string* warning) {
  if (workdir_lock_) return {};
  auto lock = WorkdirLock::acquire(options_.workdir, what, warning);
  if (!lock) return std::unexpected(lock.error());
  workdir_lock_.emplace(std::move(*lock));
  return {};
}

Result<Connection*> Run::connect(const Host& host) { return pool_->connect(host); }

Result<Connection*> Run::reconnect(const Host& host) {
  auto c = pool_->reconnect(host);
  for (int attempt = 1; !c && c.error().kind == ErrorKind::Connect && attempt < 5 && !interrupted();
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::seconds(attempt));
    c = pool_->reconnect(host);
  }
  return c;
}

TransportStats Run::transport_stats() const { return pool_->total_stats(); }

}  // namespace kbz
