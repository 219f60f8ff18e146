// The only file that knows CLI11: flags -> GlobalOptions -> kbz::cmd_*().
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <optional>

#include "kbz/cli/commands.hpp"
#include "kbz/core/interrupt.hpp"

int main(int argc, char** argv) {
  kbz::GlobalOptions g;
  CLI::App app{"kbz-install: rebuilds KeyBuzz servers over SSH, module by module, and proves each works."};
  app.set_version_flag("--version", std::string(KBZ_VERSION));
  app.require_subcommand(1);
  app.fallthrough();

  std::string address = "private";
  app.add_option("--inventory", g.inventory, "servers.tsv to read")->capture_default_str();
  auto* config = app.add_option("--config", g.config, "kbz.yaml settings file")->capture_default_str();
  app.add_option("--env", g.env, "ENV column value to keep")->capture_default_str();
  app.add_option("--address", address, "address to reach hosts on")
      ->check(CLI::IsMember({"private", "public"}))
      ->capture_default_str();
  app.add_option(
      "--hosts", g.hosts,
      "hostnames, globs (redis-*), role:NAME, pool:NAME, subrole:NAME, stack:NAME; comma-separated");
  app.add_option("--forks", g.forks, "hosts worked on at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--timeout", g.timeout_s, "per-command timeout, seconds")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--connect-timeout", g.connect_timeout_s, "SSH connection timeout, seconds")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_option("--identity", g.identities, "private key file (repeatable); tried after ssh-agent");
  app.add_option("--known-hosts", g.known_hosts, "known_hosts file (default ~/.ssh/known_hosts)");
  app.add_flag("--accept-new-host-keys", g.accept_new_host_keys,
               "record keys of hosts never seen (a changed key is always refused)");
  app.add_flag("-v,--verbose", g.verbosity, "more output (repeatable)");
  app.add_flag("--json", g.json, "machine-readable output");
  app.add_option("--modules-dir", g.modules_dir,
                 "read modules from this folder instead of the built-in copy");
  app.add_option("--workdir", g.workdir, "folder for logs/, reports/, credentials/, .kbz/")
      ->capture_default_str();

  auto* inventory = app.add_subcommand("inventory", "check servers.tsv and list the target hosts");

  std::vector<std::string> command;
  auto* exec =
      app.add_subcommand("exec", "run a command on the selected hosts: exec [--hosts SEL] -- COMMAND");
  exec->add_option("command", command, "command to run")->required()->expected(-1);

  int module = 0;
  std::string from_step;
  auto* plan = app.add_subcommand("plan", "show what apply would change, with diffs; changes nothing");
  plan->add_option("--module", module, "module number")->required();
  auto* apply = app.add_subcommand("apply", "apply a module (or --all): hosts in parallel, steps in order");
  bool all = false;
  int from_module = 0;
  bool apply_failover = false;
  auto* apply_module = apply->add_option("--module", module, "module number");
  auto* apply_all =
      apply->add_flag("--all", all, "every module in order, each followed by its verify; stops at a failure");
  apply_module->excludes(apply_all);
  apply->add_option("--from-step", from_step, "skip the steps before this step id")->excludes(apply_all);
  bool skip_preflight = false;
  apply->add_flag("--skip-preflight", skip_preflight,
                  "apply even on hosts whose preflight fails (said in the log)");
  apply->add_option("--from-module", from_module, "with --all: start at this module")->needs(apply_all);
  apply
      ->add_flag("--failover", apply_failover,
                 "with --all: run each module's failover scenarios in its verify")
      ->needs(apply_all);

  std::optional<int> verify_module;
  bool failover = false;
  auto* verify = app.add_subcommand("verify", "check modules on the real hosts and write the French report");
  auto* verify_one =
      verify->add_option("--module", verify_module, "module number (default: every module applied so far)");
  bool verify_all = false;
  verify->add_flag("--all", verify_all, "every module this binary has, in order; stops at a failure")
      ->excludes(verify_one);
  verify->add_flag("--failover", failover, "also run the module's failover scenarios (disruptive)");

  std::vector<int> preflight_modules;
  auto* preflight = app.add_subcommand(
      "preflight", "read-only readiness of the hosts for the selected modules (one exec each)");
  preflight->add_option("--module", preflight_modules, "module number (repeatable; default: every module)");

  auto* status =
      app.add_subcommand("status", "write and print SUIVI_INSTALLATION_V2.md from the recorded runs");

  bool check = false;
  std::string docs_dir = "docs";
  auto* docs = app.add_subcommand("docs", "regenerate the generated parts of docs/MODULE_*.md");
  docs->add_flag("--check", check, "fail if a doc is out of date, change nothing");
  docs->add_option("--dir", docs_dir, "docs folder")->capture_default_str();
  std::string example = "inventory/kbz.yaml.example";
  docs->add_option("--example", example, "example kbz.yaml kept in step (skipped if its folder is absent)")
      ->capture_default_str();

  std::optional<int> cred_module;
  auto* credentials = app.add_subcommand("credentials", "manage generated secrets in credentials/");
  credentials->require_subcommand(1);
  auto* cred_init =
      credentials->add_subcommand("init", "generate missing secrets (never overwrites, never prints)");
  cred_init->add_option("--module", cred_module, "only this module's secrets");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(kbz::ExitCode::BadInput);
  }
  g.address = address == "public" ? kbz::AddressKind::Public : kbz::AddressKind::Private;
  g.config_given = config->count() > 0;  // a named settings file must exist; the default may be absent
  g.skip_preflight = skip_preflight;
  kbz::install_interrupt_handler();

  if (*inventory) return kbz::cmd_inventory(g);
  if (*exec) return kbz::cmd_exec(g, command);
  if (*plan) return kbz::cmd_plan(g, module);
  const auto verify_mode = [](bool f) {
    return f ? kbz::VerifyMode::WithFailover : kbz::VerifyMode::ChecksOnly;
  };
  if (*apply && all)
    return kbz::cmd_chain(g, kbz::ChainMode::ApplyAndVerify, from_module, verify_mode(apply_failover));
  if (*apply && !*apply_module) {
    std::cerr << "apply: --module N or --all is required\n" << apply->help();
    return static_cast<int>(kbz::ExitCode::BadInput);
  }
  if (*apply) return kbz::cmd_apply(g, module, from_step);
  if (*verify && verify_all) return kbz::cmd_chain(g, kbz::ChainMode::VerifyOnly, 0, verify_mode(failover));
  if (*verify) return kbz::cmd_verify(g, verify_module, verify_mode(failover));
  if (*status) return kbz::cmd_status(g);
  if (*preflight) return kbz::cmd_preflight(g, preflight_modules);
  if (*docs) {
    const auto folder = std::filesystem::path(example).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder)) example.clear();
    return kbz::cmd_docs(g, check ? kbz::DocsMode::Check : kbz::DocsMode::Write, docs_dir, example);
  }
  if (*cred_init) return kbz::cmd_credentials_init(g, cred_module);
  std::cerr << app.help();
  return static_cast<int>(kbz::ExitCode::BadInput);
}
