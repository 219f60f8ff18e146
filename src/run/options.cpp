#include "kbz/run/options.hpp"

namespace kbz {

ConnectOptions GlobalOptions::connect_options() const {
  ConnectOptions o;
  for (const auto& i : identities) o.identities.emplace_back(i);
  if (!known_hosts.empty()) o.known_hosts = known_hosts;
  o.host_key_policy = accept_new_host_keys ? HostKeyPolicy::AcceptNew : HostKeyPolicy::Strict;
  o.connect_timeout = Millis(connect_timeout_s * 1000);
  o.command_timeout = Millis(timeout_s * 1000);
  return o;
}

TargetOptions GlobalOptions::target_options() const { return TargetOptions{env, address}; }

}  // namespace kbz
