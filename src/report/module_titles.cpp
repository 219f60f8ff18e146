#include "kbz/report/module_titles.hpp"

namespace kbz {

std::string builtin_module_title(int number) {
  switch (number) {
    case 2:
      return "Base OS & sécurité";
    case 3:
      return "PostgreSQL 16 HA (Patroni RAFT)";
    case 4:
      return "Redis HA (Sentinel)";
    case 5:
      return "RabbitMQ quorum";
    case 6:
      return "MinIO distribué";
    case 7:
      return "MariaDB Galera + ProxySQL";
    case 8:
      return "ProxySQL avancé";
    case 9:
      return "Kubernetes HA (kubeadm)";
    default:
      return "";
  }
}

}  // namespace kbz
