// libFuzzer target for the servers.tsv parser, the --hosts selectors and the UTF-8 table code: whatever
// the bytes, nothing may crash, and the invariants the CLI relies on must hold (diagnostics point at real
// lines and known columns, every field is valid UTF-8 so JSON output cannot throw, cuts stay in width).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "inventory/text.hpp"
#include "kbz/inventory/inventory.hpp"
#include "kbz/inventory/table.hpp"

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

const std::set<std::string> kColumns = {"",          "header",       "ENV",      "IP_PUBLIQUE", "HOSTNAME",
                                        "IP_PRIVEE", "FQDN",         "USER_SSH", "POOL",        "ROLE",
                                        "SUBROLE",   "DOCKER_STACK", "CORE",     "NOTES"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));

  const auto parsed = kbz::parse_inventory(text, "fuzz.tsv");
  for (const auto& d : parsed.errors) {
    require(d.line >= 0 && d.line <= lines, "diagnostic line inside the file");
    require(kColumns.count(d.column) == 1, "diagnostic column is a known column name");
    require(kbz::inventory_text::valid_utf8(d.format()), "diagnostic is valid UTF-8");
  }
  for (const auto& h : parsed.inventory.rows) {
    require(h.line >= 1 && h.line <= lines, "row line inside the file");
    for (const auto* f : {&h.env, &h.public_ip, &h.hostname, &h.private_ip, &h.fqdn, &h.user, &h.pool,
                          &h.role, &h.subrole, &h.docker_stack, &h.core, &h.notes}) {
      require(kbz::inventory_text::valid_utf8(*f), "field is valid UTF-8");
      require(f->find('\t') == std::string::npos && f->find('\n') == std::string::npos,
              "no separator in a field");
    }
    const auto cut = kbz::truncate_display(h.notes, 40);
    require(kbz::display_width(cut) <= 40, "notes cut to 40");
    require(kbz::inventory_text::valid_utf8(cut), "notes cut on a character boundary");
  }

  const auto hosts = kbz::targets(parsed.inventory, kbz::TargetOptions{});
  const auto all = kbz::select_hosts(hosts, "all");
  require(hosts.empty() ? !all.has_value() : all.has_value() && all->size() == hosts.size(),
          "'all' selects all");
  if (parsed.ok() && !hosts.empty()) {  // a valid file: every host is selectable by its own values
    const auto& h = hosts.front();
    const auto one = kbz::select_hosts(hosts, h.hostname + ",role:" + h.role + ",pool:" + h.pool);
    require(one.has_value() && !one->empty() && one->size() <= hosts.size(), "a host's own terms select it");
  }
  // The first line as a raw selector: arbitrary fnmatch patterns and selector kinds.
  const auto selected = kbz::select_hosts(hosts, text.substr(0, text.find('\n')));
  if (selected) require(selected->size() <= hosts.size(), "selection is a subset");
  (void)kbz::format_host_table(hosts);
  return 0;
}
