#!/usr/bin/env bash
# CI for module 9 (Kubernetes 1.30, kubeadm) on the lab. The lab cannot have kubeadm, kubelet or pkgs.k8s.io,
# so this CI is plan-only plus the refusals the module makes for real on lab servers:
#   - plan --module 9 on servers that had module 2: exit 0, every kubeadm/containerd/Calico file with its diff,
#     the secret lines hidden;
#   - apply refuses Debian's containerd 1.6.20 (Kubernetes 1.30 needs >= 1.6.28 / 1.7.13) before changing
#     anything Kubernetes;
#   - apply refuses a server with a K3s binary (/usr/local/bin/k3s made for the test) at the first step, with
#     the cleanup command;
#   - an inventory whose Kubernetes rows say ROLE k3s (the team's real file) is refused, each line named;
#   - verify --failover writes the report with every cluster check and the control-plane loss "non testé dans le
#     lab", the 1.30 end of life and the ingress-nginx retirement;
#   - the cluster CA apply generated (credentials/k8s-ca.env) is a CA whose pin is openssl's, never printed.
# Standalone (`make ci-module9`): its own lab (profile k8s: k8s-master-01..03, k8s-worker-01), module 2 on it,
# taken down at the end. Inside the shared lab (ctest, LAB_CI_FIXTURE=1): profile ci's k8s-master-01 and
# k8s-worker-01 only (profile k8s-ci), module 2 already applied, the lab left up.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib/common.sh"
source "$here/lib/engine.sh"
source "$here/kbz.sh"
source "$here/lib/ci.sh"
cd "$REPO_TOP"
need_root

ci_begin lab-ci-module9
[ -x "$KBZ_BIN" ] || build_kbz
install_host_packages

if [ "$CI_MODE" = fixture ]; then ci_lab k8s-ci; else ci_lab k8s; fi
report="$KBZ_WORKDIR/reports/RAPPORT_VALIDATION_MODULE9.md"
victim=k8s-worker-01

plan_shows_install() {
  kbz plan --module 9 --hosts "$CI_SEL" >"$CI_WORK/plan9.txt"
  local f
  for f in /etc/containerd/config.toml /etc/apt/sources.list.d/kubernetes.list \
           /etc/kubernetes/kbz/kubeadm-init.yaml /etc/kubernetes/kbz/kubeadm-join.yaml \
           /etc/kubernetes/kbz/calico/calico-node-env.yaml; do
    grep -qF -- "+++ $f (rendered)" "$CI_WORK/plan9.txt" || { warn "plan has no diff for $f"; return 1; }
  done
  grep -q 'controlPlaneEndpoint: "' "$CI_WORK/plan9.txt" &&
    grep -q 'kubernetesVersion: v1.30.14' "$CI_WORK/plan9.txt" &&
    grep -q 'IP_AUTODETECTION_METHOD' "$CI_WORK/plan9.txt" || { warn "plan lacks the kubeadm/Calico settings"; return 1; }
  grep -q 'kubeadm init --config' "$CI_WORK/plan9.txt" && grep -q 'kubeadm join --config' "$CI_WORK/plan9.txt" \
    || { warn "plan does not show kubeadm init and join"; return 1; }
  # The join token and certificate key: hidden lines, never their values.
  grep -q '(secret' "$CI_WORK/plan9.txt" || { warn "no hidden secret line in the plan"; return 1; }
  # Joins pin the cluster CA (the hash line itself is a credentials line, so hidden); nothing skips it.
  grep -Eq '^ *[+] +caCertHashes:$' "$CI_WORK/plan9.txt" && ! grep -q 'unsafeSkipCAVerification' "$CI_WORK/plan9.txt" \
    || { warn "the join configs do not pin the CA (caCertHashes), or skip its verification"; return 1; }
  grep -Eq '^ *~ cluster-ca: ' "$CI_WORK/plan9.txt" || { warn "plan lacks the cluster-ca step"; return 1; }
  # ingress-nginx: the manifest the first control plane applies, pinned image, hostNetwork, ClusterIP Service.
  grep -qF -- "+++ /etc/kubernetes/kbz/ingress/ingress-nginx.yaml (rendered)" "$CI_WORK/plan9.txt" &&
    grep -q 'image: "registry.k8s.io/ingress-nginx/controller:v1.11.5"' "$CI_WORK/plan9.txt" &&
    grep -q 'hostNetwork: true' "$CI_WORK/plan9.txt" && grep -q 'dnsPolicy: ClusterFirstWithHostNet' "$CI_WORK/plan9.txt" &&
    grep -q 'type: ClusterIP' "$CI_WORK/plan9.txt" || { warn "plan lacks the ingress-nginx manifest and its settings"; return 1; }
}
check "plan --module 9 on the lab: exit 0, kubeadm/containerd/Calico/ingress files with diffs, kubeadm init and join shown, joins pin the CA" plan_shows_install

# Debian 12's containerd (1.6.20) is below what Kubernetes 1.30 needs: every host refused at that step,
# the steps after it never run (nothing Kubernetes written).
refuses_old_containerd() {
  local rc=0
  kbz apply --module 9 --hosts "$CI_SEL" --json >"$CI_WORK/a-containerd.json" || rc=$?
  ((rc == 1)) || { warn "apply exited $rc, not 1"; return 1; }
  jq -e --argjson n "$(wc -w <<<"$CI_HOSTS")" '
    (.hosts | length) == $n and
    all(.hosts[]; any(.steps[]; .id == "containerd-version" and .status == "failed" and (.message | test("1\\.6\\.20|refusé")))
                  and all(.steps[]; .id != "k8s-packages" or .status != "changed"))' "$CI_WORK/a-containerd.json" >/dev/null \
    || { warn "not refused at containerd-version on every host:"; jq -c '.hosts[] | {host, steps: [.steps[] | select(.status != "ok") | {id, status, message}]}' "$CI_WORK/a-containerd.json" >&2; return 1; }
  kbz exec --hosts "$CI_SEL" -- 'test ! -e /etc/apt/sources.list.d/kubernetes.list && test ! -e /etc/kubernetes/kbz && echo clean' |
    grep -c 'clean' | grep -qx "$(wc -w <<<"$CI_HOSTS")" || { warn "something Kubernetes was written"; return 1; }
}
check "apply refuses containerd 1.6.20 on every host before writing anything Kubernetes" refuses_old_containerd

remove_fake_k3s() { kbz exec --hosts "$victim" -- 'rm -f /usr/local/bin/k3s' >/dev/null; }
refuses_k3s_residue() {
  kbz exec --hosts "$victim" -- 'printf "#!/bin/sh\necho fake k3s for kbz-install CI\n" >/usr/local/bin/k3s && chmod 0755 /usr/local/bin/k3s' >/dev/null
  local rc=0
  kbz apply --module 9 --hosts "$victim" --json >"$CI_WORK/a-k3s.json" || rc=$?
  remove_fake_k3s
  ((rc == 1)) || { warn "apply exited $rc, not 1"; return 1; }
  jq -e '.hosts[0].steps[0] | .id == "k3s-residue" and .status == "failed"' "$CI_WORK/a-k3s.json" >/dev/null &&
    jq -e '[.hosts[0].steps[] | select(.status == "changed")] | length == 0' "$CI_WORK/a-k3s.json" >/dev/null \
    || { warn "not refused at k3s-residue, or something changed:"; jq -c '.hosts[0].steps[] | {id, status, message}' "$CI_WORK/a-k3s.json" >&2; return 1; }
  # The console and the log say what was found and how to clean it.
  local log; log=$(ls -t "$KBZ_WORKDIR"/logs/*apply*.log | head -n 1)
  grep -q '/usr/local/bin/k3s' "$log" && grep -q 'k3s-uninstall.sh' "$log" \
    || { warn "the refusal does not name the residue and the cleanup command ($log)"; return 1; }
}
check "apply refuses $victim with a K3s binary (/usr/local/bin/k3s) at the first step, naming the cleanup" refuses_k3s_residue

refuses_k3s_role() {
  local inv="$CI_WORK/servers-k3s.tsv" rc=0
  awk -F'\t' 'BEGIN {OFS = FS} $8 == "k8s" {$8 = "k3s"} {print}' "$LAB_DIR/servers.tsv" >"$inv"
  "$KBZ_BIN" --inventory "$inv" --config "$LAB_DIR/kbz.yaml" --known-hosts "$LAB_DIR/known_hosts" \
    --identity "$LAB_DIR/ssh/id_ed25519" --workdir "$CI_WORK/k3s-workdir" plan --module 9 >"$CI_WORK/k3s-role.txt" 2>&1 || rc=$?
  ((rc == 2)) || { warn "plan with ROLE k3s exited $rc, not 2"; cat "$CI_WORK/k3s-role.txt" >&2; return 1; }
  local n; n=$(awk -F'\t' '$8 == "k3s"' "$inv" | wc -l)
  [ "$(grep -c "ROLE: role 'k3s' is not supported" "$CI_WORK/k3s-role.txt")" = "$n" ] &&
    grep -q "change ROLE to 'k8s' on this line" "$CI_WORK/k3s-role.txt" \
    || { warn "not every k3s line named with the fix:"; cat "$CI_WORK/k3s-role.txt" >&2; return 1; }
}
check "an inventory with ROLE k3s is refused (exit 2), every such line named with the fix" refuses_k3s_role

verify_says_not_tested() {
  kbz verify --module 9 --hosts "$CI_SEL" --failover >"$CI_WORK/verify9.txt" 2>&1 || { cat "$CI_WORK/verify9.txt" >&2; return 1; }
  grep -q 'non testé dans le lab' "$report" &&
    grep -q 'pkgs.k8s.io injoignable' "$report" &&
    grep -q 'fin de support amont le 2025-07-15' "$report" &&
    grep -q 'projet retiré en mars 2026' "$report" \
    || { warn "the report lacks the not-tested lines, the 1.30 end of life or the ingress-nginx retirement"; return 1; }
  # The control-plane loss scenario is reported, not run, and never as a pass.
  grep -q "Perte d'un control plane" "$report" && grep -q 'aucun control plane à arrêter' "$report" \
    || { warn "the report does not list the control-plane loss scenario as not tested"; return 1; }
}
check "verify --module 9 --failover: report with the cluster checks and the control-plane loss non testé dans le lab, 1.30 end of life, ingress-nginx retired" verify_says_not_tested

secrets_hidden() {
  local f="$KBZ_WORKDIR/credentials/k8s.env" key v
  [ "$(stat -c %a "$f")" = 600 ] || { warn "$f is not 0600"; return 1; }
  for key in K8S_TOKEN_SECRET K8S_CERT_KEY; do
    v=$(sed -n "s/^$key=//p" "$f")
    [ ${#v} -ge 16 ] || { warn "no $key in $f"; return 1; }
    if grep -rqF -- "$v" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK"; then
      warn "$key is in a log, report, state or plan"; return 1
    fi
  done
}
check "join token and certificate key: credentials/k8s.env 0600, in no log, report or plan" secrets_hidden

# The cluster CA made by apply (in process, OpenSSL): a real CA whose pin is what openssl computes; its key and
# certificate in no log, report, state or plan.
ca_generated_and_hidden() {
  local f="$KBZ_WORKDIR/credentials/k8s-ca.env" key v pem
  [ "$(stat -c %a "$f")" = 600 ] || { warn "$f is not 0600"; return 1; }
  pem="$CI_WORK/ca-from-credentials.crt"
  sed -n 's/^K8S_CA_CERT=//p' "$f" | base64 -d >"$pem"
  openssl x509 -noout -text -in "$pem" | grep -q 'CA:TRUE' || { warn "K8S_CA_CERT is not a CA certificate"; return 1; }
  local want; want="sha256:$(openssl x509 -pubkey -noout -in "$pem" | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)"
  [ "$(sed -n 's/^K8S_CA_CERT_HASH=//p' "$f")" = "$want" ] || { warn "K8S_CA_CERT_HASH is not the openssl pin of K8S_CA_CERT"; return 1; }
  sed -n 's/^K8S_CA_KEY=//p' "$f" | base64 -d | openssl pkey -noout 2>/dev/null || { warn "K8S_CA_KEY is not a private key"; return 1; }
  for key in K8S_CA_KEY K8S_CA_CERT; do
    v=$(sed -n "s/^$key=//p" "$f" | cut -c 201-264)  # past the constant PEM header
    [ ${#v} -eq 64 ] || { warn "no $key in $f"; return 1; }
    if grep -rqF -- "$v" "$KBZ_WORKDIR/logs" "$KBZ_WORKDIR/reports" "$KBZ_WORKDIR/.kbz" "$CI_WORK/plan9.txt" "$CI_WORK/verify9.txt"; then
      warn "$key is in a log, report, state or plan"; return 1
    fi
  done
}
check "cluster CA: credentials/k8s-ca.env 0600, a CA whose K8S_CA_CERT_HASH is openssl's pin, key and certificate in no log, report or plan" ca_generated_and_hidden
