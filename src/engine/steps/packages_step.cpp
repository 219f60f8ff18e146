// kind: packages — every listed package installed (ii in dpkg's database), at the pinned version when one is
// given. The check is one dpkg-query; only missing or wrong-version packages are installed.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <regex>

#include "kbz/core/text.hpp"
#include "kbz/engine/step_kind.hpp"
#include "kbz/engine/steps/packages.hpp"
#include "kbz/report/text_format.hpp"

namespace kbz {
namespace {

struct PackagesSpec : StepSpec {
  std::vector<std::string> packages;  // name or name=version
};

std::string package_name(const std::string& spec) { return spec.substr(0, spec.find('=')); }

class PackagesKind final : public StepKind {
 public:
  std::string_view name() const override { return "packages"; }
  std::vector<std::string> keys() const override { return {"packages"}; }

  void parse(const yaml::Fields& f, Step& step) const override {
    auto spec = std::make_shared<PackagesSpec>();
    const std::string what = fmt::format("step '{}'", step.id);
    spec->packages = f.list("packages");
    if (spec->packages.empty())
      f.reader().error(f.node().Mark(), fmt::format("{} needs a non-empty 'packages' list", what));
    static const std::regex pkg_re("[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:{}-]+)?");
    for (const auto& p : spec->packages)
      if (!std::regex_match(p, pkg_re))
        f.error("packages", fmt::format("{}: '{}' is not a package name (name or name=version)", what, p));
    step.spec = std::move(spec);
  }

  Result<std::string> check(const Step& step, const Module&, const TemplateContext&) const override {
    std::string names;
    for (const auto& p : step.spec_as<PackagesSpec>().packages) names += " " + shell_quote(package_name(p));
    return "dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'" + names;
  }

  Result<StepDecision> decide(const Step& step, const Module&, const CheckOutput& c,
                              const TemplateContext&) const override {
    std::map<std::string, std::pair<std::string, std::string>> installed;  // name -> (version, status)
    for (const auto& l : lines_of(c.output)) {
      const auto f = split(l, '\t');
      if (f.size() < 3) continue;  // "no packages found matching" lines
      installed[std::string(f[0])] = {std::string(f[1]), std::string(f[2])};
    }
    StepDecision d;
    std::vector<std::string> missing, why;
    for (const auto& spec : step.spec_as<PackagesSpec>().packages) {
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
    d.message = fmt::format("install {}", fmt::join(why, ", "));
    d.apply.command = apt_install_command(missing);
    return d;
  }

  std::string describe_fr(const Step& step, const Module&) const override {
    std::string out;
    for (const auto& p : step.spec_as<PackagesSpec>().packages) out += (out.empty() ? "" : ", ") + md_code(p);
    return out;
  }
};

}  // namespace

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
      "Could not connect|Hash Sum mismatch|Unable to locate package|has no installation candidate|Version .* "
      "was not found' "
      "|| exit \"$kbz_rc\"\n"
      "  [ \"$kbz_try\" -gt 3 ] && exit \"$kbz_rc\"\n"
      "  echo \"apt-get: fetch error, apt-get update and retry $kbz_try/3\"\n"
      "  sleep $((kbz_try * ${{KBZ_APT_BACKOFF_S:-5}}))\n"
      "  apt-get update -o DPkg::Lock::Timeout=300 >/dev/null 2>&1\n"
      "done\n",
      list);
}

const StepKind& packages_step_kind() {
  static const PackagesKind kind;
  return kind;
}

}  // namespace kbz
