// The team's servers.tsv, read as it is (12 tab-separated columns, header row, blank and '#' lines skipped).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "kbz/core/error.hpp"

namespace kbz {

struct Host {
  std::string env, public_ip, hostname, private_ip, fqdn, user, pool, role, subrole, docker_stack, core,
      notes;
  int line = 0;         // 1-based line in the inventory file
  std::string address;  // what the transport connects to (private IP by default, see AddressKind)
  int port = 22;
  bool is_orchestrator() const { return role == "orchestrator"; }
};

// One problem in the inventory, printed as FILE:LINE:COLUMN: message (column = field name).
struct Diagnostic {
  std::string file;
  int line = 0;
  std::string column;
  std::string message;
  std::string hint;  // optional second line
  std::string format() const;
};

struct Inventory {
  std::string path;
  std::vector<Host> rows;  // every data row, in file order
};

struct ParsedInventory {
  Inventory inventory;
  std::vector<Diagnostic> errors;  // all of them, not just the first
  bool ok() const { return errors.empty(); }
};

enum class AddressKind { Private, Public };

struct TargetOptions {
  std::string env = "prod";
  AddressKind address = AddressKind::Private;
};

ParsedInventory parse_inventory(std::string_view text, const std::string& path);
ParsedInventory load_inventory(const std::string& path);  // file errors become one Diagnostic

// Rows of the chosen ENV, minus the orchestrator, with `address` filled in.
std::vector<Host> targets(const Inventory& inventory, const TargetOptions& options);

// Host selection shared by every command: comma-separated hostnames, globs (redis-*),
// role:NAME, pool:NAME, subrole:NAME. Union of the terms, file order kept. A term that matches
// nothing is an error (typos must not silently shrink a run).
Result<std::vector<Host>> select_hosts(const std::vector<Host>& hosts, std::string_view selector);
bool host_matches(const Host& host, std::string_view term);

}  // namespace kbz

namespace kbz {

// What every command needs before touching a host, in one call: load + validate the file, keep the
// targets of options.env (orchestrator excluded), apply the --hosts selector (empty = all targets), and
// check that each selected host has the address options.address asks for (IP_PUBLIQUE is optional in the
// file and required only for hosts reached with --address public). Every problem comes back at once;
// `hosts` holds what could be selected even when `errors` is not empty.
struct TargetSet {
  Inventory inventory;
  std::vector<Host> hosts;
  std::vector<Diagnostic> errors;
  bool ok() const { return errors.empty(); }
};
TargetSet resolve_targets(const std::string& path, const TargetOptions& options, std::string_view selector);

}  // namespace kbz
