#include "kbz/verify/check_eval.hpp"

#include <fmt/format.h>

#include <regex>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"

namespace kbz {

namespace {

constexpr size_t kMaxValue = 80;

std::string trim_ws(std::string_view s) { return std::string(trim(s, " \t\r\n")); }

std::string first_non_empty_line(std::string_view out) {
  size_t pos = 0;
  while (pos <= out.size()) {
    const size_t nl = out.find('\n', pos);
    const std::string l = trim_ws(out.substr(pos, nl == std::string_view::npos ? out.npos : nl - pos));
    if (!l.empty()) return l;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return {};
}

// Cut on a UTF-8 character boundary so the report never shows a broken character.
std::string cut(std::string s) {
  if (s.size() <= kMaxValue) return s;
  size_t n = kMaxValue;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s + "…";
}

// Regexes see the output without the newline(s) every command ends with, so `$` means "end of the output"
// as check authors expect (ECMAScript `$` does not match before a final newline).
std::string without_final_newlines(const std::string& output) {
  const auto end = output.find_last_not_of("\r\n");
  return end == std::string::npos ? std::string{} : output.substr(0, end + 1);
}

}  // namespace

std::string measured_value(const VerifyCheck& check, const std::string& output) {
  if (!check.value_regex.empty()) {
    try {
      std::smatch m;
      const std::string text = without_final_newlines(output);
      if (std::regex_search(text, m, std::regex(check.value_regex, std::regex::ECMAScript)) && m.size() > 1 &&
          m[1].matched)
        return mask(cut(trim_ws(m[1].str())));
    } catch (const std::regex_error&) {
      // validate_check_regexes() rejects this at load time; fall back to the first line rather than throw.
    }
  }
  return mask(cut(first_non_empty_line(output)));
}

CheckResult evaluate_check(const VerifyCheck& check, const std::string& host, int exit_status,
                           const std::string& output) {
  CheckResult r;
  r.check_id = check.id;
  r.host = host;
  r.value = measured_value(check, output);
  std::string why;
  if (exit_status != check.expect_exit)
    why = fmt::format("code de sortie {} (attendu {})", exit_status, check.expect_exit);
  if (!check.expect_regex.empty()) {
    bool found = false;
    try {
      found = std::regex_search(without_final_newlines(output),
                                std::regex(check.expect_regex, std::regex::ECMAScript));
    } catch (const std::regex_error& e) {
      why += (why.empty() ? "" : " ; ") +
             fmt::format("expression invalide « {} » : {}", check.expect_regex, e.what());
    }
    if (!found && why.find("expression invalide") == std::string::npos)
      why += (why.empty() ? "" : " ; ") + fmt::format("sortie sans « {} »", check.expect_regex);
  }
  if (why.empty()) {
    r.status = CheckStatus::Pass;
  } else {
    r.status = check.severity == Severity::Warning ? CheckStatus::Warn : CheckStatus::Fail;
    r.detail = mask(why);
  }
  return r;
}

Result<void> validate_check_regexes(const VerifyCheck& check, const std::string& origin) {
  for (const auto* re : {&check.expect_regex, &check.value_regex}) {
    if (re->empty()) continue;
    try {
      std::regex compiled(*re, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(ErrorKind::Input, fmt::format("{}: verify check '{}': invalid regex '{}': {}", origin,
                                                check.id, *re, e.what()));
    }
  }
  return {};
}

bool is_version_check(const VerifyCheck& check) { return check.id.starts_with("version-"); }

std::string version_component(const VerifyCheck& check) {
  if (!check.component.empty()) return check.component;
  return check.id.substr(std::string_view("version-").size());
}

std::map<std::string, std::string> version_keys(const Module& module) {
  std::map<std::string, int> uses;
  for (const auto& c : module.checks)
    if (is_version_check(c)) ++uses[version_component(c)];
  std::map<std::string, std::string> keys;
  for (const auto& c : module.checks) {
    if (!is_version_check(c)) continue;
    const std::string comp = version_component(c);
    keys[c.id] = uses[comp] > 1 && !c.title_fr.empty() ? c.title_fr : comp;
  }
  return keys;
}

}  // namespace kbz
