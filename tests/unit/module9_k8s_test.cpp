// Module 9 (Kubernetes, kubeadm): the rendered kubeadm, containerd and Calico files checked field by field
// against what kubeadm v1beta3 / containerd 1.6-1.7 / Calico need, with settings from a kbz.yaml.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

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
  r.ctx.credentials = {{"K8S_TOKEN_SECRET", "0123456789abcdef"}, {"K8S_CERT_KEY", std::string(64, 'e')}};
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
  EXPECT_EQ(join["nodeRegistration"]["kubeletExtraArgs"]["node-ip"].as<std::string>(), "10.0.0.110");

  auto c = setup(kYaml, host("k8s-master-02", "10.0.0.101", "master"));
  const auto cp = YAML::Load(c.render("kubeadm-join-control-plane.yaml.mustache"));
  EXPECT_EQ(cp["controlPlane"]["certificateKey"].as<std::string>(), std::string(64, 'e'));
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

}  // namespace
}  // namespace kbz
