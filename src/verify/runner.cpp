#include "kbz/verify/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "kbz/core/interrupt.hpp"
#include "kbz/core/secret.hpp"
#include "kbz/engine/engine.hpp"
#include "kbz/report/text_format.hpp"
#include "kbz/verify/check_eval.hpp"

namespace kbz {

namespace {

// One slot per host, written only by that host's thread.
struct HostSlot {
  bool started = false;
  std::string unreachable;  // "host: reason"
  std::vector<CheckResult> checks;
  std::map<std::string, std::string> versions;
  Millis duration{0};
};

}  // namespace

bool check_applies(const VerifyCheck& check, const Host& host) { return selector_matches(check.hosts, host); }

HostBatch host_batch(const Module& module, const Host& host, const TemplateContext& templates) {
  HostBatch b;
  b.prelude = facts_shell_prelude();
  b.items.push_back({std::string(kFactsItemId), kFactsPrintCommand});
  TemplateContext ctx = templates;
  ctx.host = host;
  ctx.facts_as_shell_vars = true;
  // Checks whose `when:` will turn out false still run: they are read-only, and facts only exist once this
  // same exec has returned. Their output is discarded and they are reported "non exécuté".
  b.settings = templates.settings;
  const bool lab = templates.settings.contains("lab") && templates.settings.at("lab") == "true";
  for (const auto& c : module.checks) {
    if (!check_applies(c, host)) continue;
    if (lab && !c.lab_untested.empty()) {
      b.not_tested.insert(c.id);
      continue;
    }
    auto cmd = render_command(c.command, ctx, fmt::format("verify check '{}'", c.id));
    if (!cmd)
      b.render_errors[c.id] = cmd.error().message;
    else
      b.items.push_back({c.id, *cmd});
  }
  return b;
}

Result<void> validate_check_commands(const Module& module, const std::vector<Host>& hosts,
                                     const TemplateContext& templates) {
  for (const auto& h : hosts) {
    const HostBatch b = host_batch(module, h, templates);
    if (!b.render_errors.empty())
      return fail(ErrorKind::Input,
                  fmt::format("{}: verify check '{}' for host {}: {}", module.source_dir,
                              b.render_errors.begin()->first, h.hostname, b.render_errors.begin()->second));
  }
  return {};
}

std::vector<CheckResult> evaluate_host_batch(const Module& module, const Host& host, const HostBatch& batch,
                                             const std::vector<BatchOutput>& outputs,
                                             std::map<std::string, std::string>& versions) {
  const auto keys = version_keys(module);
  Facts facts;
  for (const auto& o : outputs)
    if (o.id == kFactsItemId) facts = parse_facts(o.output);
  std::vector<CheckResult> results;
  for (const auto& c : module.checks) {
    if (!check_applies(c, host)) continue;
    if (batch.not_tested.contains(c.id)) {
      results.push_back(CheckResult{c.id, host.hostname, CheckStatus::NotTested, "",
                                    mask("non testé dans le lab : " + c.lab_untested), Millis{0}});
      continue;
    }
    if (auto e = batch.render_errors.find(c.id); e != batch.render_errors.end()) {
      results.push_back(CheckResult{c.id, host.hostname, CheckStatus::Fail, "",
                                    mask("commande non rendue : " + e->second), Millis{0}});
      continue;
    }
    auto it =
        std::find_if(outputs.begin(), outputs.end(), [&](const BatchOutput& o) { return o.id == c.id; });
    if (!c.when.empty() && !evaluate_when(c.when, facts, host, batch.settings)) {
      results.push_back(CheckResult{c.id, host.hostname, CheckStatus::Skipped, "",
                                    mask(fmt::format("condition « {} » non remplie", c.when)), Millis{0}});
      continue;
    }
    if (it == outputs.end()) {
      results.push_back(CheckResult{c.id, host.hostname, CheckStatus::Fail, "",
                                    "aucune sortie reçue pour cette vérification", Millis{0}});
      continue;
    }
    CheckResult r = evaluate_check(c, host.hostname, it->exit_status, it->output);
    if (is_version_check(c) && r.status != CheckStatus::Fail && !r.value.empty())
      versions[keys.at(c.id)] = r.value;
    results.push_back(std::move(r));
  }
  return results;
}

std::vector<CheckResult> failed_host_results(const Module& module, const Host& host, const std::string& why) {
  std::vector<CheckResult> results;
  for (const auto& c : module.checks)
    if (check_applies(c, host))
      results.push_back(CheckResult{c.id, host.hostname, CheckStatus::Fail, "", mask(why), Millis{0}});
  return results;
}

VerifyRun run_verify(const Module& module, const std::vector<Host>& hosts, const Connector& connect,
                     const VerifyOptions& options, const FailoverRegistry& registry) {
  VerifyRun run;
  run.module = module.number;
  run.started_utc = now_utc_iso();
  run.inventory_path = options.inventory_path;
  for (const auto& h : hosts) run.hosts.push_back(h.hostname);
  const auto t0 = std::chrono::steady_clock::now();

  std::vector<HostSlot> slots(hosts.size());
  for_each_host_parallel(hosts, options.forks, [&](const Host& host, size_t index) {
    HostSlot& slot = slots[index];
    if (interrupted()) return;
    slot.started = true;
    const auto h0 = std::chrono::steady_clock::now();
    auto conn = connect(host);
    if (!conn) {
      const std::string reason = mask(conn.error().message);
      slot.unreachable = host.hostname + ": " + reason;
      slot.checks = failed_host_results(module, host, "injoignable : " + reason);
    } else {
      const HostBatch batch = host_batch(module, host, options.templates);
      auto outputs = run_batch(**conn, batch.items, options.timeout, batch.prelude);
      if (!outputs)
        slot.checks = failed_host_results(
            module, host, "exécution des vérifications impossible : " + outputs.error().message);
      else
        slot.checks = evaluate_host_batch(module, host, batch, *outputs, slot.versions);
    }
    slot.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - h0);
  });

  for (size_t i = 0; i < hosts.size(); ++i) {
    HostSlot& slot = slots[i];
    if (!slot.started) {
      // Ctrl-C before this host started: every check of it is reported as not run, not as passed.
      for (const auto& c : module.checks)
        if (check_applies(c, hosts[i]))
          run.checks.push_back(CheckResult{c.id, hosts[i].hostname, CheckStatus::Skipped, "",
                                           "interrompu (Ctrl-C) avant ce serveur", Millis{0}});
      continue;
    }
    if (!slot.unreachable.empty()) run.unreachable.push_back(slot.unreachable);
    for (auto& c : slot.checks) run.checks.push_back(std::move(c));
    if (!slot.versions.empty()) run.versions_found[hosts[i].hostname] = std::move(slot.versions);
    run.host_durations[hosts[i].hostname] = slot.duration;
  }

  if (options.failover && !interrupted()) {
    for (const auto& sc : module.failover) {
      const FailoverFn* fn = registry.find(sc.kind);
      FailoverResult r;
      const bool lab =
          options.templates.settings.contains("lab") && options.templates.settings.at("lab") == "true";
      if (lab && !sc.lab_untested.empty()) {
        r = FailoverResult{
            sc.id, sc.title_fr, CheckStatus::NotTested, {}, "non testé dans le lab : " + sc.lab_untested};
      } else if (fn == nullptr) {
        r = FailoverResult{
            sc.id, sc.title_fr, CheckStatus::Fail, {}, fmt::format("type de scénario inconnu : {}", sc.kind)};
      } else {
        VerifyContext ctx{module, hosts, connect, sc, options.timeout};
        r = (*fn)(ctx);
        if (r.scenario_id.empty()) r.scenario_id = sc.id;
        if (r.title_fr.empty()) r.title_fr = sc.title_fr;
      }
      r.detail = mask(r.detail);
      for (auto& [k, v] : r.measures) v = mask(v);
      run.failovers.push_back(std::move(r));
      if (interrupted()) break;
    }
  }
  run.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0);
  return run;
}

}  // namespace kbz
