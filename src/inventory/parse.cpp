// servers.tsv -> Inventory + every problem at once (the team fixes a file in one pass, not one error per
// run).
//
// Decisions (docs in the inventory header):
// - required: ENV, HOSTNAME, IP_PRIVEE, USER_SSH, ROLE. IP_PUBLIQUE may be empty: it is only needed when
//   --address public is used, and resolve_targets() checks it then, for the selected hosts only.
// - duplicates of HOSTNAME / IP_PRIVEE are counted per ENV: two environments may live on separate private
//   networks that reuse addresses and names.
// - a row with the wrong field count is reported and dropped (its fields cannot be trusted); any other bad
//   row is reported and kept, so `kbz-install inventory` can still show it in the table.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "inventory/text.hpp"
#include "kbz/inventory/inventory.hpp"

namespace kbz {
namespace {

namespace t = inventory_text;

constexpr std::array<std::string_view, 12> kColumns = {"ENV",     "IP_PUBLIQUE",  "HOSTNAME", "IP_PRIVEE",
                                                       "FQDN",    "USER_SSH",     "POOL",     "ROLE",
                                                       "SUBROLE", "DOCKER_STACK", "CORE",     "NOTES"};
enum Col {
  ENV,
  IP_PUBLIQUE,
  HOSTNAME,
  IP_PRIVEE,
  FQDN,
  USER_SSH,
  POOL,
  ROLE,
  SUBROLE,
  DOCKER_STACK,
  CORE,
  NOTES
};
constexpr std::array<Col, 5> kRequired = {ENV, HOSTNAME, IP_PRIVEE, USER_SSH, ROLE};

size_t column_index(std::string_view name) {
  return static_cast<size_t>(std::find(kColumns.begin(), kColumns.end(), name) - kColumns.begin());
}

std::string header_text() {
  std::string s;
  for (const auto c : kColumns) s += (s.empty() ? "" : " ") + std::string(c);
  return s;
}

std::string in_quotes(std::string_view v) { return "'" + t::sanitize_utf8(v) + "'"; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(const std::string& path) { result_.inventory.path = path; }

  ParsedInventory run(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // BOM left by spreadsheet exports
    const auto lines = t::split(text, '\n');
    bool header_seen = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string_view line = lines[i];
      if (line.ends_with('\r')) line.remove_suffix(1);  // CRLF from Windows editors
      if (t::is_blank(line) || t::trim_spaces(line).starts_with('#')) continue;
      const int lineno = static_cast<int>(i) + 1;
      if (!header_seen) {
        header_seen = true;
        if (!header_ok(line, lineno)) return std::move(result_);  // columns unknown: rows cannot be read
      } else {
        row(line, lineno);
      }
    }
    if (!header_seen) error(0, "", "empty inventory: no header row (expected: " + header_text() + ")");
    return std::move(result_);
  }

 private:
  void error(int line, std::string column, std::string message, std::string hint = {}) {
    result_.errors.push_back(
        Diagnostic{result_.inventory.path, line, std::move(column), std::move(message), std::move(hint)});
  }

  bool header_ok(std::string_view line, int lineno) {
    const auto fields = t::split(line, '\t');
    const size_t before = result_.errors.size();
    if (fields.size() != kColumns.size()) {
      error(lineno, "header",
            "header has " + std::to_string(fields.size()) + " tab-separated columns, expected " +
                std::to_string(kColumns.size()) + ": " + header_text());
    }
    for (size_t c = 0; c < std::min(fields.size(), kColumns.size()); ++c) {
      const auto name = t::trim_spaces(fields[c]);
      if (name != kColumns[c]) {
        error(lineno, std::string(kColumns[c]),
              "header column " + std::to_string(c + 1) + " is " + in_quotes(name) + ", expected '" +
                  std::string(kColumns[c]) + "'");
      }
    }
    return result_.errors.size() == before;
  }

  void row(std::string_view line, int lineno) {
    const auto raw = t::split(line, '\t');
    if (raw.size() != kColumns.size()) {
      const bool short_row = raw.size() < kColumns.size();
      const std::string count = std::to_string(raw.size()) + (raw.size() == 1 ? " field" : " fields");
      error(lineno, std::string(short_row ? kColumns[raw.size()] : kColumns[NOTES]),
            "row has " + count + ", expected " + std::to_string(kColumns.size()),
            raw.size() == 1 ? "columns must be separated by tabs, not spaces"
            : short_row     ? "a tab is missing; an empty field still needs its tab"
                            : "NOTES must not contain a tab");
      return;
    }

    const size_t first_error = result_.errors.size();
    std::array<std::string, 12> f;
    for (size_t c = 0; c < raw.size(); ++c) {
      const auto value = t::trim_spaces(raw[c]);
      if (!t::valid_utf8(value)) {
        error(lineno, std::string(kColumns[c]), "not valid UTF-8", "save the file as UTF-8");
      } else if (t::has_control(value)) {
        error(lineno, std::string(kColumns[c]), "contains a control character");
      }
      f[c] = t::sanitize_utf8(value);
    }

    for (const Col c : kRequired) {
      if (f[c].empty()) error(lineno, std::string(kColumns[c]), "empty, but this column is required");
    }
    if (!f[IP_PRIVEE].empty() && !t::valid_ipv4(f[IP_PRIVEE])) {
      error(lineno, "IP_PRIVEE", in_quotes(f[IP_PRIVEE]) + " is not an IPv4 address");
    }
    if (!f[IP_PUBLIQUE].empty() && !t::valid_ipv4(f[IP_PUBLIQUE])) {
      error(lineno, "IP_PUBLIQUE", in_quotes(f[IP_PUBLIQUE]) + " is not an IPv4 address");
    }
    if (!f[HOSTNAME].empty() && !t::valid_hostname(f[HOSTNAME])) {
      // Hostnames become --hosts terms and file names (logs/, reports/): keep them plain.
      error(lineno, "HOSTNAME",
            in_quotes(f[HOSTNAME]) + " is not a valid host name (letters, digits, '-', '.')");
    }
    if (!f[USER_SSH].empty() && !t::valid_user(f[USER_SSH])) {
      error(lineno, "USER_SSH", in_quotes(f[USER_SSH]) + " is not a valid user name");
    }
    for (const Col c : {POOL, ROLE, SUBROLE}) {
      // These are --hosts values (role:NAME): a comma, space or '*' would make a host unselectable.
      if (!t::valid_name(f[c])) {
        error(lineno, std::string(kColumns[c]),
              in_quotes(f[c]) + " is not a plain name (letters, digits, '-', '_', '.')");
      }
    }
    if (iequals(f[ROLE], "k3s")) {
      // The legacy installer gave such rows the wrong firewall rules without a word: refuse them.
      error(lineno, "ROLE", "role " + in_quotes(f[ROLE]) + " is not supported",
            "module 9 installs kubeadm Kubernetes: change ROLE to 'k8s' on this line");
    }
    duplicate(first_hostname_, f[ENV], f[HOSTNAME], lineno, "HOSTNAME");
    duplicate(first_private_ip_, f[ENV], f[IP_PRIVEE], lineno, "IP_PRIVEE");

    // This row's diagnostics in column order, whatever order the checks ran in.
    std::stable_sort(result_.errors.begin() + static_cast<long>(first_error), result_.errors.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return column_index(a.column) < column_index(b.column);
                     });

    Host h;
    h.env = f[ENV];
    h.public_ip = f[IP_PUBLIQUE];
    h.hostname = f[HOSTNAME];
    h.private_ip = f[IP_PRIVEE];
    h.fqdn = f[FQDN];
    h.user = f[USER_SSH];
    h.pool = f[POOL];
    h.role = f[ROLE];
    h.subrole = f[SUBROLE];
    h.docker_stack = f[DOCKER_STACK];
    h.core = f[CORE];
    h.notes = f[NOTES];
    h.line = lineno;
    result_.inventory.rows.push_back(std::move(h));
  }

  using FirstSeen = std::map<std::pair<std::string, std::string>, int>;  // (env, value) -> first line

  void duplicate(FirstSeen& seen, const std::string& env, const std::string& value, int lineno,
                 const char* column) {
    if (value.empty()) return;
    const auto [it, inserted] = seen.emplace(std::pair{env, value}, lineno);
    if (!inserted) {
      error(lineno, column,
            "duplicate " + std::string(column) + " " + in_quotes(value) + " (first on line " +
                std::to_string(it->second) + ")");
    }
  }

  ParsedInventory result_;
  FirstSeen first_hostname_, first_private_ip_;
};

}  // namespace

std::string Diagnostic::format() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (!column.empty()) s += ":" + column;
  s += s.empty() ? message : ": " + message;
  if (!hint.empty()) s += "\n  hint: " + hint;
  return s;
}

ParsedInventory parse_inventory(std::string_view text, const std::string& path) {
  return Parser(path).run(text);
}

ParsedInventory load_inventory(const std::string& path) {
  const auto unreadable = [&](const std::string& why) {
    ParsedInventory p;
    p.inventory.path = path;
    p.errors.push_back(
        Diagnostic{path, 0, "", "cannot read the inventory: " + why, "give its path with --inventory PATH"});
    return p;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return unreadable("it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return unreadable(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_inventory(text.str(), path);
}

}  // namespace kbz
