// Module 9 (Kubernetes, kubeadm): the rendered kubeadm, containerd and Calico files checked field by field
// against what kubeadm v1beta3 / containerd 1.6-1.7 / Calico need, with settings from a kbz.yaml.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kbz/engine/module.hpp"
#include "kbz/engine/settings.hpp"
#include "kbz/engine/templates.hpp"

namespace kbz {
namespace {

Host host(std::string name, std::string ip, std::string subrole) {
  Host h;
  h.env = "prod";
  h.hostname = std::move(name);
  h.private_ip = std::move(ip);
  h.role = "k8s";
  h.subrole = std::move(subrole);
  h.address = h.private_ip;
  return h;
}

struct Rendered {
  Module module;
  TemplateContext ctx;
  std::string render(const std::string& tpl) {
    auto text = render_template(module.templates.at(tpl), ctx, tpl);
    EXPECT_TRUE(text) << (text ? "" : text.error().message);
    return text ? *text : std::string{};
  }
};

Rendered setup(const std::string& kbz_yaml, const Host& me) {
  auto m = load_module(9, ModuleSource{std::string(KBZ_SOURCE_DIR) + "/modules"});
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  auto s = parse_settings(kbz_yaml, "kbz.yaml", m->settings);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  Rendered r{*m, {}};
  r.ctx.host = me;
  r.ctx.settings = s->raw;
  r.ctx.credentials = {{"K8S_TOKEN_SECRET", "0123456789abcdef"},
                       {"K8S_CERT_KEY", std::string(64, 'e')},
                       {"K8S_CA_CERT_HASH", "sha256:" + std::string(64, 'c')},
                       {"K8S_CA_CERT", "Q0VSVA=="},
                       {"K8S_CA_KEY", "S0VZ"},
                       {"GRAFANA_ADMIN_PASSWORD", "grafana-pw-0123456789"}};
  r.ctx.all_hosts = {
      host("k8s-master-01", "10.0.0.100", "master"), host("k8s-master-02", "10.0.0.101", "master"),
      host("k8s-master-03", "10.0.0.102", "master"), host("k8s-worker-01", "10.0.0.110", "worker")};
  return r;
}

const char* kYaml =
    "network: {private_cidr: 10.0.0.0/16}\n"
    "k8s: {join_token_id: 0a1b2c, control_plane_endpoint: \"10.0.0.7:6443\", pod_cidr: 10.233.0.0/16, "
    "service_cidr: 10.96.0.0/12}\n";

YAML::Node doc_of_kind(const std::vector<YAML::Node>& docs, const std::string& kind) {
  for (const auto& d : docs)
    if (d["kind"] && d["kind"].as<std::string>() == kind) return d;
  ADD_FAILURE() << "no document of kind " << kind;
  return YAML::Node();
}

TEST(Module9, KubeadmInitConfigIsV1beta3FromKbzYaml) {
  auto r = setup(kYaml, host("k8s-master-01", "10.0.0.100", "master"));
  const auto docs = YAML::LoadAll(r.render("kubeadm-init.yaml.mustache"));
  ASSERT_EQ(docs.size(), 4u);
  const auto init = doc_of_kind(docs, "InitConfiguration");
  EXPECT_EQ(init["apiVersion"].as<std::string>(), "kubeadm.k8s.io/v1beta3");
  EXPECT_EQ(init["localAPIEndpoint"]["advertiseAddress"].as<std::string>(), "10.0.0.100");
  EXPECT_EQ(init["nodeRegistration"]["name"].as<std::string>(), "k8s-master-01");
  EXPECT_EQ(init["nodeRegistration"]["criSocket"].as<std::string>(),
            "unix:///run/containerd/containerd.sock");
  EXPECT_EQ(init["nodeRegistration"]["kubeletExtraArgs"]["node-ip"].as<std::string>(), "10.0.0.100");
  EXPECT_EQ(init["certificateKey"].as<std::string>(), std::string(64, 'e'));
  ASSERT_EQ(init["bootstrapTokens"].size(), 1u);
  EXPECT_EQ(init["bootstrapTokens"][0]["token"].as<std::string>(), "0a1b2c.0123456789abcdef");
  EXPECT_EQ(init["bootstrapTokens"][0]["ttl"].as<std::string>(), "2h0m0s");

  const auto cluster = doc_of_kind(docs, "ClusterConfiguration");
  EXPECT_EQ(cluster["apiVersion"].as<std::string>(), "kubeadm.k8s.io/v1beta3");
  EXPECT_EQ(cluster["kubernetesVersion"].as<std::string>(), "v1.30.14");
  EXPECT_EQ(cluster["controlPlaneEndpoint"].as<std::string>(), "10.0.0.7:6443");
  EXPECT_EQ(cluster["networking"]["podSubnet"].as<std::string>(), "10.233.0.0/16");
  EXPECT_EQ(cluster["networking"]["serviceSubnet"].as<std::string>(), "10.96.0.0/12");
  std::vector<std::string> sans;
  for (const auto& n : cluster["apiServer"]["certSANs"]) sans.push_back(n.as<std::string>());
  EXPECT_EQ(sans, (std::vector<std::string>{"10.0.0.100", "k8s-master-01", "10.0.0.101", "k8s-master-02",
                                            "10.0.0.102", "k8s-master-03"}));

  EXPECT_EQ(doc_of_kind(docs, "KubeletConfiguration")["cgroupDriver"].as<std::string>(), "systemd");
  const auto proxy = doc_of_kind(docs, "KubeProxyConfiguration");
  EXPECT_EQ(proxy["apiVersion"].as<std::string>(), "kubeproxy.config.k8s.io/v1alpha1");
  EXPECT_EQ(proxy["mode"].as<std::string>(), "iptables");
}

TEST(Module9, CidrsAndEndpointComeFromKbzYaml) {
  auto r = setup(
      "k8s: {control_plane_endpoint: \"lb.internal:6443\", pod_cidr: 10.244.0.0/16, service_cidr: "
      "10.112.0.0/12}\n",
      host("k8s-master-01", "10.0.0.100", "master"));
  const auto cluster =
      doc_of_kind(YAML::LoadAll(r.render("kubeadm-init.yaml.mustache")), "ClusterConfiguration");
  EXPECT_EQ(cluster["controlPlaneEndpoint"].as<std::string>(), "lb.internal:6443");
  EXPECT_EQ(cluster["networking"]["podSubnet"].as<std::string>(), "10.244.0.0/16");
  EXPECT_EQ(cluster["networking"]["serviceSubnet"].as<std::string>(), "10.112.0.0/12");
  const auto env = YAML::Load(r.render("calico-node-env.yaml.mustache"));
  bool pool = false;
  for (const auto& e : env["spec"]["template"]["spec"]["containers"][0]["env"])
    if (e["name"].as<std::string>() == "CALICO_IPV4POOL_CIDR")
      pool = e["value"].as<std::string>() == "10.244.0.0/16";
  EXPECT_TRUE(pool);
}

TEST(Module9, SettingsRefuseAnotherMinorAndBadCidrs) {
  auto m = load_module(9, ModuleSource{std::string(KBZ_SOURCE_DIR) + "/modules"});
  ASSERT_TRUE(m);
  EXPECT_FALSE(parse_settings("k8s: {version: 1.31.2}\n", "kbz.yaml", m->settings));
  EXPECT_FALSE(parse_settings("k8s: {pod_cidr: 10.233.0.5/16}\n", "kbz.yaml", m->settings));
  EXPECT_FALSE(parse_settings("k8s: {calico_manifest_sha256: abc}\n", "kbz.yaml", m->settings));
  EXPECT_FALSE(parse_settings("k8s: {control_plane_endpoint: \"10.0.0.7\"}\n", "kbz.yaml", m->settings));
}

TEST(Module9, JoinConfigsCarryTokenCertKeyAndPrivateAddress) {
  auto w = setup(kYaml, host("k8s-worker-01", "10.0.0.110", "worker"));
  const auto join = YAML::Load(w.render("kubeadm-join.yaml.mustache"));
  EXPECT_EQ(join["apiVersion"].as<std::string>(), "kubeadm.k8s.io/v1beta3");
  EXPECT_EQ(join["kind"].as<std::string>(), "JoinConfiguration");
  EXPECT_EQ(join["discovery"]["bootstrapToken"]["apiServerEndpoint"].as<std::string>(), "10.0.0.7:6443");
  EXPECT_EQ(join["discovery"]["bootstrapToken"]["token"].as<std::string>(), "0a1b2c.0123456789abcdef");
  EXPECT_FALSE(join["controlPlane"]);
  // The CA is pinned, never skipped.
  EXPECT_FALSE(join["discovery"]["bootstrapToken"]["unsafeSkipCAVerification"]);
  ASSERT_EQ(join["discovery"]["bootstrapToken"]["caCertHashes"].size(), 1u);
  EXPECT_EQ(join["discovery"]["bootstrapToken"]["caCertHashes"][0].as<std::string>(),
            "sha256:" + std::string(64, 'c'));
  EXPECT_EQ(join["nodeRegistration"]["kubeletExtraArgs"]["node-ip"].as<std::string>(), "10.0.0.110");

  auto c = setup(kYaml, host("k8s-master-02", "10.0.0.101", "master"));
  const auto cp = YAML::Load(c.render("kubeadm-join-control-plane.yaml.mustache"));
  EXPECT_EQ(cp["controlPlane"]["certificateKey"].as<std::string>(), std::string(64, 'e'));
  EXPECT_FALSE(cp["discovery"]["bootstrapToken"]["unsafeSkipCAVerification"]);
  ASSERT_EQ(cp["discovery"]["bootstrapToken"]["caCertHashes"].size(), 1u);
  EXPECT_EQ(cp["discovery"]["bootstrapToken"]["caCertHashes"][0].as<std::string>(),
            "sha256:" + std::string(64, 'c'));
  // The CA reaches the first control plane on stdin: certificate then key, one base64 line each.
  EXPECT_EQ(c.render("cluster-ca.stdin.mustache"), "Q0VSVA==\nS0VZ\n");
  EXPECT_EQ(cp["controlPlane"]["localAPIEndpoint"]["advertiseAddress"].as<std::string>(), "10.0.0.101");
}

TEST(Module9, ContainerdConfigEnablesCriWithSystemdCgroupAndPause39) {
  auto r = setup(kYaml, host("k8s-worker-01", "10.0.0.110", "worker"));
  const auto toml = r.render("containerd-config.toml.mustache");
  EXPECT_NE(toml.find("version = 2\n"), std::string::npos);
  EXPECT_NE(toml.find("disabled_plugins = []\n"), std::string::npos);  // containerd.io ships ["cri"]
  EXPECT_NE(toml.find("sandbox_image = \"registry.k8s.io/pause:3.9\""), std::string::npos);
  EXPECT_NE(toml.find("SystemdCgroup = true"), std::string::npos);
}

TEST(Module9, CalicoPatchesIpipOnVxlanOffPrivateAutodetectMtu) {
  auto r = setup(kYaml, host("k8s-master-01", "10.0.0.100", "master"));
  const auto env = YAML::Load(r.render("calico-node-env.yaml.mustache"));
  EXPECT_EQ(env["kind"].as<std::string>(), "DaemonSet");
  EXPECT_EQ(env["metadata"]["name"].as<std::string>(), "calico-node");
  std::map<std::string, std::string> vars;
  for (const auto& e : env["spec"]["template"]["spec"]["containers"][0]["env"])
    vars[e["name"].as<std::string>()] = e["value"].as<std::string>();
  EXPECT_EQ(vars["CALICO_IPV4POOL_IPIP"], "Always");
  EXPECT_EQ(vars["CALICO_IPV4POOL_VXLAN"], "Never");
  EXPECT_EQ(vars["IP_AUTODETECTION_METHOD"], "cidr=10.0.0.0/16");
  EXPECT_EQ(vars["CALICO_IPV4POOL_CIDR"], "10.233.0.0/16");
  const auto mtu = YAML::Load(r.render("calico-config-mtu.yaml.mustache"));
  EXPECT_EQ(mtu["data"]["veth_mtu"].as<std::string>(), "1430");
  const auto k = YAML::Load(r.render("calico-kustomization.yaml.mustache"));
  EXPECT_EQ(k["resources"][0].as<std::string>(), "calico.yaml");
  EXPECT_EQ(k["patches"].size(), 2u);
  const auto token = YAML::Load(r.render("bootstrap-token.yaml.mustache"));
  EXPECT_EQ(token["metadata"]["name"].as<std::string>(), "bootstrap-token-0a1b2c");
  EXPECT_EQ(token["type"].as<std::string>(), "bootstrap.kubernetes.io/token");
}

// True when some rule of a (Cluster)Role grants `verb` on `resource` in `group`.
bool grants(const YAML::Node& role, const std::string& group, const std::string& resource,
            const std::string& verb) {
  const auto has = [](const YAML::Node& list, const std::string& v) {
    for (const auto& x : list)
      if (x.as<std::string>() == v) return true;
    return false;
  };
  for (const auto& r : role["rules"])
    if (has(r["apiGroups"], group) && has(r["resources"], resource) && has(r["verbs"], verb)) return true;
  return false;
}

TEST(Module9, IngressNginxManifestIsCompleteAndPinned) {
  auto r = setup(kYaml, host("k8s-master-01", "10.0.0.100", "master"));
  const auto docs = YAML::LoadAll(r.render("ingress-nginx.yaml.mustache"));
  std::map<std::string, YAML::Node> by_kind;
  for (const auto& d : docs) {
    ASSERT_TRUE(d["kind"]);
    EXPECT_FALSE(by_kind.contains(d["kind"].as<std::string>())) << "two " << d["kind"].as<std::string>();
    by_kind[d["kind"].as<std::string>()] = d;
  }
  for (const char* k : {"Namespace", "ServiceAccount", "ConfigMap", "ClusterRole", "ClusterRoleBinding",
                        "Role", "RoleBinding", "Service", "IngressClass", "DaemonSet"})
    EXPECT_TRUE(by_kind.contains(k)) << k;
  // No admission webhook (and so no certgen Job): CVE-2025-1974's surface.
  EXPECT_FALSE(by_kind.contains("ValidatingWebhookConfiguration"));
  EXPECT_FALSE(by_kind.contains("Job"));
  EXPECT_FALSE(by_kind.contains("Deployment"));

  const auto ds = by_kind["DaemonSet"];
  EXPECT_EQ(ds["apiVersion"].as<std::string>(), "apps/v1");
  EXPECT_EQ(ds["metadata"]["namespace"].as<std::string>(), "ingress-nginx");
  const auto pod = ds["spec"]["template"]["spec"];
  EXPECT_TRUE(pod["hostNetwork"].as<bool>());
  EXPECT_EQ(pod["dnsPolicy"].as<std::string>(), "ClusterFirstWithHostNet");
  EXPECT_EQ(pod["serviceAccountName"].as<std::string>(), "ingress-nginx");
  EXPECT_FALSE(pod["tolerations"]);  // never on the control planes
  const auto expr = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                       ["nodeSelectorTerms"][0]["matchExpressions"][0];
  EXPECT_EQ(expr["key"].as<std::string>(), "node-role.kubernetes.io/control-plane");
  EXPECT_EQ(expr["operator"].as<std::string>(), "DoesNotExist");
  // The selector matches the pod labels (a DaemonSet whose selector does not is refused by the API).
  for (const auto& kv : ds["spec"]["selector"]["matchLabels"])
    EXPECT_EQ(ds["spec"]["template"]["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>(),
              kv.second.as<std::string>());
  const auto c = pod["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(), "registry.k8s.io/ingress-nginx/controller:v1.11.5");
  std::vector<std::string> args;
  for (const auto& a : c["args"]) args.push_back(a.as<std::string>());
  const auto has_arg = [&](const std::string& a) {
    return std::find(args.begin(), args.end(), a) != args.end();
  };
  EXPECT_TRUE(has_arg("--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller"));
  EXPECT_TRUE(has_arg("--election-id=ingress-nginx-leader"));
  EXPECT_TRUE(has_arg("--controller-class=k8s.io/ingress-nginx"));
  EXPECT_TRUE(has_arg("--ingress-class=nginx"));
  EXPECT_TRUE(has_arg("--configmap=$(POD_NAMESPACE)/ingress-nginx-controller"));
  for (const auto& a : args) EXPECT_FALSE(a.starts_with("--validating-webhook")) << a;
  std::map<std::string, int> host_ports;
  for (const auto& p : c["ports"]) host_ports[p["name"].as<std::string>()] = p["hostPort"].as<int>();
  EXPECT_EQ(host_ports, (std::map<std::string, int>{{"http", 80}, {"https", 443}}));
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"].as<int>(), 10254);
  EXPECT_EQ(c["securityContext"]["runAsUser"].as<int>(), 101);
  EXPECT_EQ(c["securityContext"]["capabilities"]["add"][0].as<std::string>(), "NET_BIND_SERVICE");

  // The Service --publish-service names: ClusterIP, same namespace/name, selecting the controller pods.
  const auto svc = by_kind["Service"];
  EXPECT_EQ(svc["metadata"]["name"].as<std::string>(), "ingress-nginx-controller");
  EXPECT_EQ(svc["metadata"]["namespace"].as<std::string>(), "ingress-nginx");
  EXPECT_EQ(svc["spec"]["type"].as<std::string>(), "ClusterIP");
  for (const auto& kv : svc["spec"]["selector"])
    EXPECT_EQ(ds["spec"]["template"]["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>(),
              kv.second.as<std::string>());
  EXPECT_EQ(by_kind["IngressClass"]["spec"]["controller"].as<std::string>(), "k8s.io/ingress-nginx");
  EXPECT_EQ(by_kind["IngressClass"]["metadata"]["name"].as<std::string>(), "nginx");
  EXPECT_EQ(by_kind["ConfigMap"]["metadata"]["name"].as<std::string>(), "ingress-nginx-controller");
  EXPECT_EQ(by_kind["ConfigMap"]["data"]["allow-snippet-annotations"].as<std::string>(), "false");

  // RBAC complete: the legacy "cannot get resource pods", the election Lease, EndpointSlices, status.
  const auto cr = by_kind["ClusterRole"];
  EXPECT_TRUE(grants(cr, "", "pods", "get"));
  EXPECT_TRUE(grants(cr, "", "pods", "list"));
  EXPECT_TRUE(grants(cr, "", "services", "watch"));
  EXPECT_TRUE(grants(cr, "discovery.k8s.io", "endpointslices", "list"));
  EXPECT_TRUE(grants(cr, "networking.k8s.io", "ingresses/status", "update"));
  EXPECT_TRUE(grants(cr, "networking.k8s.io", "ingressclasses", "watch"));
  EXPECT_TRUE(grants(cr, "", "events", "create"));
  const auto role = by_kind["Role"];
  EXPECT_TRUE(grants(role, "coordination.k8s.io", "leases", "create"));
  EXPECT_TRUE(grants(role, "coordination.k8s.io", "leases", "update"));
  EXPECT_TRUE(grants(role, "", "pods", "get"));
  for (const char* b : {"ClusterRoleBinding", "RoleBinding"}) {
    EXPECT_EQ(by_kind[b]["subjects"][0]["name"].as<std::string>(), "ingress-nginx") << b;
    EXPECT_EQ(by_kind[b]["subjects"][0]["namespace"].as<std::string>(), "ingress-nginx") << b;
    EXPECT_EQ(by_kind[b]["roleRef"]["name"].as<std::string>(), "ingress-nginx") << b;
  }
}

TEST(Module9, IngressImageMustBeAPinned111) {
  auto m = load_module(9, ModuleSource{std::string(KBZ_SOURCE_DIR) + "/modules"});
  ASSERT_TRUE(m);
  const auto img = [&](const std::string& ref) {
    return static_cast<bool>(
        parse_settings("k8s: {ingress_nginx_image: \"" + ref + "\"}\n", "kbz.yaml", m->settings));
  };
  EXPECT_TRUE(img("registry.k8s.io/ingress-nginx/controller:v1.11.5"));
  EXPECT_TRUE(img("mirror.internal:5000/ingress-nginx/controller:v1.11.5@sha256:" + std::string(64, 'a')));
  EXPECT_FALSE(img("registry.k8s.io/ingress-nginx/controller:latest"));
  EXPECT_FALSE(img("registry.k8s.io/ingress-nginx/controller"));
  EXPECT_FALSE(img("registry.k8s.io/ingress-nginx/controller:v1.9.5"));
}

TEST(Module9, LocalPathPatchPinsTheHelperImageAndKeepsTheUpstreamManifest) {
  auto r = setup(kYaml, host("k8s-master-01", "10.0.0.100", "master"));
  const auto kust = YAML::Load(r.render("local-path-kustomization.yaml.mustache"));
  EXPECT_EQ(kust["kind"].as<std::string>(), "Kustomization");
  ASSERT_EQ(kust["resources"].size(), 1u);
  EXPECT_EQ(kust["resources"][0].as<std::string>(), "local-path-storage.yaml");  // the sha256-checked file
  EXPECT_EQ(kust["patches"][0]["path"].as<std::string>(), "local-path-config.yaml");
  const auto cm = YAML::Load(r.render("local-path-config.yaml.mustache"));
  EXPECT_EQ(cm["kind"].as<std::string>(), "ConfigMap");
  EXPECT_EQ(cm["metadata"]["name"].as<std::string>(), "local-path-config");  // upstream's ConfigMap
  EXPECT_EQ(cm["metadata"]["namespace"].as<std::string>(), "local-path-storage");
  EXPECT_FALSE(cm["data"]["config.json"]) << "the patch only replaces helperPod.yaml";
  const auto helper = YAML::Load(cm["data"]["helperPod.yaml"].as<std::string>());
  EXPECT_EQ(helper["kind"].as<std::string>(), "Pod");
  EXPECT_EQ(helper["spec"]["containers"][0]["image"].as<std::string>(), "busybox:1.36.1");
}

TEST(Module9, MonitoringValuesUseLocalPathRetentionAndTheAdminSecret) {
  auto r = setup(
      "network: {private_cidr: 10.0.0.0/16}\n"
      "k8s: {join_token_id: 0a1b2c, control_plane_endpoint: \"10.0.0.7:6443\", "
      "prometheus_retention: 30d, prometheus_storage: 80Gi}\n",
      host("k8s-master-01", "10.0.0.100", "master"));
  const auto v = YAML::Load(r.render("monitoring-values.json.mustache"));  // JSON is YAML
  const auto prom = v["prometheus"]["prometheusSpec"];
  EXPECT_EQ(prom["retention"].as<std::string>(), "30d");
  const auto pvc = prom["storageSpec"]["volumeClaimTemplate"]["spec"];
  EXPECT_EQ(pvc["storageClassName"].as<std::string>(),
            "local-path");  // the class local-path-provisioner serves
  EXPECT_EQ(pvc["resources"]["requests"]["storage"].as<std::string>(), "80Gi");
  EXPECT_EQ(
      v["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"]
          .as<std::string>(),
      "local-path");
  EXPECT_EQ(v["grafana"]["admin"]["existingSecret"].as<std::string>(), "grafana-admin");
  EXPECT_EQ(v["grafana"]["admin"]["passwordKey"].as<std::string>(), "admin-password");
  EXPECT_FALSE(v["grafana"]["adminPassword"]) << "the password lives in the Secret only";
  EXPECT_EQ(r.render("monitoring-values.json.mustache").find("grafana-pw-0123456789"), std::string::npos);

  const auto docs = YAML::LoadAll(r.render("grafana-admin-secret.yaml.mustache"));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(doc_of_kind(docs, "Namespace")["metadata"]["name"].as<std::string>(), "monitoring");
  const auto secret = doc_of_kind(docs, "Secret");
  EXPECT_EQ(secret["metadata"]["name"].as<std::string>(), "grafana-admin");
  EXPECT_EQ(secret["metadata"]["namespace"].as<std::string>(), "monitoring");
  EXPECT_EQ(secret["stringData"]["admin-password"].as<std::string>(), "grafana-pw-0123456789");
  EXPECT_EQ(secret["stringData"]["admin-user"].as<std::string>(), "admin");
}

}  // namespace
}  // namespace kbz
