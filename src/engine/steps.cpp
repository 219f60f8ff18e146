#include "kbz/engine/steps.hpp"

#include "kbz/engine/container_step.hpp"
#include "kbz/engine/diff.hpp"
#include "kbz/engine/image_step.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace kbz {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

namespace {

std::string normalize_mode(std::string mode) {
  const auto first = mode.find_first_not_of('0');
  return first == std::string::npos ? "0" : mode.substr(first);
}

Result<std::string> rendered_path(const Step& step, const TemplateContext& ctx) {
  return render_command(step.path, ctx, fmt::format("step '{}' path", step.id));
}

std::string package_name(const std::string& spec) { return spec.substr(0, spec.find('=')); }

}  // namespace

// Wait steps and rolling `ready`: one exec instead of one exec per attempt.
std::string wait_loop(const std::string& check, int timeout_s) {
  return fmt::format(
      "kbz_end=$(( $(date +%s) + {0} ))\n"
      "while ! ( {1}\n) >/dev/null 2>&1; do\n"
      "  if [ \"$(date +%s)\" -ge \"$kbz_end\" ]; then echo 'still not ready after {0} s'; ( {1}\n) 2>&1 | tail -n 5; exit 1; fi\n"
      "  sleep 1\n"
      "done\n",
      timeout_s, check);
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string step_source(const Module& module, const Step& step) {
  if (step.kind != StepKind::File) return {};
  if (step.template_name.empty()) return step.content;
  const auto it = module.templates.find(step.template_name);
  return it == module.templates.end() ? std::string{} : it->second;
}

std::string apt_install_command(const std::vector<std::string>& packages) {
  std::string list;
  for (const auto& p : packages) list += " " + shell_quote(p);
  // Retries only what `apt-get update` can fix (mirror hiccups, stale lists); a real error fails at once.
  return fmt::format(
      "export DEBIAN_FRONTEND=noninteractive\n"
      "kbz_try=0\n"
      "while :; do\n"
      "  kbz_out=$(apt-get install -y -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=300{} 2>&1)\n"
      "  kbz_rc=$?\n"
      "  printf '%s\\n' \"$kbz_out\" | tail -n 20\n"
      "  [ \"$kbz_rc\" -eq 0 ] && exit 0\n"
      "  kbz_try=$((kbz_try + 1))\n"
      "  printf '%s\\n' \"$kbz_out\" | grep -qE 'Failed to fetch|Unable to fetch|Temporary failure resolving|"
      "Could not connect|Hash Sum mismatch|Unable to locate package|has no installation candidate|Version .* was not found' "
      "|| exit \"$kbz_rc\"\n"
      "  [ \"$kbz_try\" -gt 3 ] && exit \"$kbz_rc\"\n"
      "  echo \"apt-get: fetch error, apt-get update and retry $kbz_try/3\"\n"
      "  sleep $((kbz_try * ${{KBZ_APT_BACKOFF_S:-5}}))\n"
      "  apt-get update -o DPkg::Lock::Timeout=300 >/dev/null 2>&1\n"
      "done\n",
      list);
}

Result<std::string> render_check(const Step& step, const TemplateContext& ctx) {
  const std::string what = fmt::format("step '{}' check", step.id);
  switch (step.kind) {
    case StepKind::File: {
      auto path = rendered_path(step, ctx);
      if (!path) return path;
      return fmt::format(
          "kbz_p={}; if [ -f \"$kbz_p\" ]; then sha256sum < \"$kbz_p\" | cut -c1-64; stat -c '%a %U:%G' \"$kbz_p\"; "
          "else echo absent; fi",
          shell_quote(*path));
    }
    case StepKind::Packages: {
      std::string names;
      for (const auto& p : step.packages) names += " " + shell_quote(package_name(p));
      return "dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'" + names;
    }
    case StepKind::Command:
    case StepKind::Wait:
      return render_command(step.check, ctx, what);
    case StepKind::Service: {
      const auto unit = render_command(step.service, ctx, what);
      if (!unit) return unit;
      return fmt::format("systemctl is-active {0}; systemctl is-enabled {0}", shell_quote(*unit));
    }
    case StepKind::Container:
      return container_render_check(step, ctx);
    case StepKind::Image:
      return image_render_check(step, ctx);
  }
  return fail(ErrorKind::Input, fmt::format("step '{}': kind not supported yet", step.id));
}

Result<StepDecision> decide(const Step& step, const std::string& source, int check_exit,
                            const std::string& check_output, const TemplateContext& ctx) {
  StepDecision d;
  d.apply.privilege = Privilege::Root;
  d.apply.timeout = Millis(static_cast<long long>(step.timeout_s) * 1000);
  const auto lines = lines_of(check_output);
  switch (step.kind) {
    case StepKind::File: {
      auto path = rendered_path(step, ctx);
      if (!path) return std::unexpected(path.error());
      auto content = render_template(source, ctx, step.template_name.empty() ? step.id : step.template_name);
      if (!content) return std::unexpected(content.error());
      d.path = *path;
      d.rendered = *content;
      if (source.find("credentials.") != std::string::npos && !ctx.credentials.empty()) {
        // Render again with markers for the secrets: the lines they land on are hidden in plan diffs.
        constexpr const char* kMarker = "KBZSECRETMARKER7f3a";
        TemplateContext marked = ctx;
        for (auto& [key, value] : marked.credentials) value = kMarker;
        if (auto m = render_template(source, marked, step.template_name.empty() ? step.id : step.template_name); m)
          d.secret_prefixes = secret_line_prefixes(*m, kMarker);
      }
      const std::string want_mode = normalize_mode(step.mode);
      std::vector<std::string> why;
      if (lines.empty() || check_exit != 0)
        return fail(ErrorKind::Remote, fmt::format("check of {} failed: {}", *path, check_output));
      if (lines[0] == "absent") {
        why.push_back("file absent");
      } else {
        if (lines.size() < 2) return fail(ErrorKind::Remote, fmt::format("unexpected check output for {}: {}", *path, check_output));
        d.remote_exists = true;
        if (lines[0] != sha256_hex(*content)) why.push_back("content differs");
        const auto space = lines[1].find(' ');
        const std::string mode = lines[1].substr(0, space);
        const std::string owner = space == std::string::npos ? "" : lines[1].substr(space + 1);
        if (mode != want_mode) why.push_back(fmt::format("mode {} -> {}", mode, want_mode));
        if (owner != step.owner) why.push_back(fmt::format("owner {} -> {}", owner, step.owner));
      }
      if (why.empty()) return d;
      d.change = true;
      for (const auto& w : why) d.message += (d.message.empty() ? "" : ", ") + w;
      // Content through stdin into a temp file in the same folder (same file system: mv is atomic), so a
      // reader never sees half a file and secrets never reach argv.
      d.apply.command = fmt::format(
          "set -e; kbz_p={0}; kbz_d=$(dirname \"$kbz_p\"); mkdir -p \"$kbz_d\"; "
          "kbz_t=$(mktemp \"$kbz_d/.kbz-XXXXXX\"); trap 'rm -f \"$kbz_t\"' EXIT; "
          "cat > \"$kbz_t\"; chmod {1} \"$kbz_t\"; chown {2} \"$kbz_t\"; mv -f \"$kbz_t\" \"$kbz_p\"; trap - EXIT",
          shell_quote(*path), want_mode, shell_quote(step.owner));
      d.apply.stdin_data = *content;
      return d;
    }
    case StepKind::Packages: {
      std::map<std::string, std::pair<std::string, std::string>> installed;  // name -> (version, status)
      for (const auto& l : lines) {
        const auto t1 = l.find('\t'), t2 = l.find('\t', t1 == std::string::npos ? t1 : t1 + 1);
        if (t1 == std::string::npos || t2 == std::string::npos) continue;  // "no packages found matching" lines
        installed[l.substr(0, t1)] = {l.substr(t1 + 1, t2 - t1 - 1), l.substr(t2 + 1)};
      }
      std::vector<std::string> missing;
      std::vector<std::string> why;
      for (const auto& spec : step.packages) {
        const auto name = package_name(spec);
        const auto want = spec.size() > name.size() ? spec.substr(name.size() + 1) : std::string{};
        const auto it = installed.find(name);
        if (it == installed.end() || !it->second.second.starts_with("ii")) {
          missing.push_back(spec);
          why.push_back(want.empty() ? name : spec);
        } else if (!want.empty() && it->second.first != want) {
          missing.push_back(spec);
          why.push_back(fmt::format("{} {} -> {}", name, it->second.first, want));
        }
      }
      if (missing.empty()) return d;
      d.change = true;
      d.message = "install " + fmt::format("{}", fmt::join(why, ", "));
      d.apply.command = apt_install_command(missing);
      return d;
    }
    case StepKind::Command: {
      if (check_exit == 0) return d;
      d.change = true;
      auto apply = render_command(step.apply, ctx, fmt::format("step '{}' apply", step.id));
      if (!apply) return std::unexpected(apply.error());
      d.apply.command = *apply;
      // The plan's reader wants to see what will run, not only that the check failed (masked by the caller).
      std::string head = apply->substr(0, apply->find('\n'));
      if (head.size() > 100) head = head.substr(0, 97) + "...";
      // What the check printed last says why (e.g. "differs: quorum=3->2"); the caller masks it.
      const std::string said = lines.empty() ? std::string{} : lines.back().substr(0, 100);
      d.message = said.empty() ? fmt::format("check not met (exit {}); apply: {}", check_exit, head)
                               : fmt::format("check not met (exit {}: {}); apply: {}", check_exit, said, head);
      return d;
    }
    case StepKind::Wait: {
      if (check_exit == 0) return d;
      d.change = true;
      d.message = fmt::format("not ready yet (waits up to {} s)", step.timeout_s);
      auto check = render_command(step.check, ctx, fmt::format("step '{}' check", step.id));
      if (!check) return std::unexpected(check.error());
      d.apply.command = wait_loop(*check, step.timeout_s);
      d.apply.timeout = Millis(static_cast<long long>(step.timeout_s + 30) * 1000);
      return d;
    }
    case StepKind::Service: {
      auto unit = render_command(step.service, ctx, fmt::format("step '{}' service", step.id));
      if (!unit) return std::unexpected(unit.error());
      const std::string active = lines.size() > 0 ? lines[0] : "", enabled = lines.size() > 1 ? lines[1] : "";
      static const std::set<std::string> enabled_states = {"enabled", "enabled-runtime", "static", "alias",
                                                           "indirect", "generated"};
      static const std::set<std::string> disabled_states = {"disabled", "masked", "static"};
      std::vector<std::string> cmds, why;
      const bool want_started = step.state == "started";
      if (want_started && active != "active") {
        cmds.push_back("systemctl start " + shell_quote(*unit));
        why.push_back(fmt::format("{} -> active", active.empty() ? "unknown" : active));
      } else if (!want_started && active == "active") {
        cmds.push_back("systemctl stop " + shell_quote(*unit));
        why.push_back("active -> stopped");
      }
      if (step.enabled && !enabled_states.contains(enabled)) {
        cmds.insert(cmds.begin(), "systemctl enable " + shell_quote(*unit));
        why.push_back(fmt::format("{} -> enabled", enabled.empty() ? "unknown" : enabled));
      } else if (!step.enabled && !disabled_states.contains(enabled)) {
        cmds.push_back("systemctl disable " + shell_quote(*unit));
        why.push_back(fmt::format("{} -> disabled", enabled));
      }
      if (cmds.empty()) return d;
      d.change = true;
      d.message = fmt::format("{}", fmt::join(why, ", "));
      d.apply.command = fmt::format("{}", fmt::join(cmds, " && "));
      return d;
    }
    case StepKind::Container:
      return container_decide(step, check_exit, check_output, ctx);
    case StepKind::Image:
      return image_decide(step, check_exit, check_output, ctx);
  }
  return fail(ErrorKind::Input, fmt::format("step '{}': kind not supported yet", step.id));
}

}  // namespace kbz
