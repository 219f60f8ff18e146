// Every subcommand as a plain function over plain options; src/main.cpp maps CLI11 flags onto these.
// Each returns the process exit code (0 ok, 1 something failed on a host, 2 bad input or usage).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kbz/inventory/inventory.hpp"
#include "kbz/transport/connection.hpp"

namespace kbz {

struct GlobalOptions {
  std::string inventory = "inventory/servers.tsv";
  std::string config = "kbz.yaml";
  std::string env = "prod";
  AddressKind address = AddressKind::Private;
  std::string hosts;                      // --hosts selector, empty = all the command's targets
  int forks = 32;
  int timeout_s = 600;                    // per remote command
  int connect_timeout_s = 10;
  std::vector<std::string> identities;    // --identity
  std::string known_hosts;                // --known-hosts
  bool accept_new_host_keys = false;
  int verbosity = 0;                      // -v
  bool json = false;
  std::string modules_dir;                // --modules-dir, empty = embedded
  std::string workdir = ".";              // where logs/, reports/, credentials/, .kbz/ live

  ConnectOptions connect_options() const;
  TargetOptions target_options() const;
};

int cmd_inventory(const GlobalOptions& g);
int cmd_exec(const GlobalOptions& g, const std::vector<std::string>& command);
int cmd_plan(const GlobalOptions& g, int module);
int cmd_apply(const GlobalOptions& g, int module, const std::string& from_step);
int cmd_verify(const GlobalOptions& g, std::optional<int> module, bool failover);
int cmd_status(const GlobalOptions& g);
int cmd_docs(const GlobalOptions& g, bool check, const std::string& docs_dir);
int cmd_credentials_init(const GlobalOptions& g, std::optional<int> module);

}  // namespace kbz
