// The options every command shares (src/main.cpp maps CLI11 flags onto them).
#pragma once
#include <string>
#include <vector>

#include "kbz/inventory/inventory.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

struct GlobalOptions {
  std::string inventory = "inventory/servers.tsv";
  std::string config = "kbz.yaml";
  bool config_given = false;  // --config on the command line: the file must exist
  std::string env = "prod";
  AddressKind address = AddressKind::Private;
  std::string hosts;  // --hosts selector, empty = all the command's targets
  int forks = 32;
  int timeout_s = 600;  // per remote command
  int connect_timeout_s = 10;
  std::vector<std::string> identities;  // --identity
  std::string known_hosts;              // --known-hosts
  bool accept_new_host_keys = false;
  int verbosity = 0;  // -v
  bool json = false;
  std::string modules_dir;      // --modules-dir, empty = embedded
  std::string workdir = ".";    // where logs/, reports/, credentials/, .kbz/ live
  bool skip_preflight = false;  // apply --skip-preflight

  ConnectOptions connect_options() const;
  TargetOptions target_options() const;
};

}  // namespace kbz
