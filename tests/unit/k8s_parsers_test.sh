#!/usr/bin/env bash
# Module 9's kubectl -o json parsers (the jq filters kbz-k8s runs on the control planes) against recorded
# outputs in tests/fixtures/k8s/ (core/v1 NodeList and PodList, Calico IPPoolList, kube-public/cluster-info).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tpl="$top/modules/09-k8s/templates" fx="$top/tests/fixtures/k8s"
pass=0 fail=0
while IFS=$'\t' read -r filter input want; do
  [[ -z "$filter" || "$filter" == \#* ]] && continue
  got=$(jq -r -f "$tpl/$filter.mustache" "$fx/$input")
  if [[ "$got" == "$want" ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL $filter $input: got '$got', want '$want'"; fi
done <"$fx/expected.tsv"
# The join wait's test: the token id's signature is in cluster-info, another id's is not.
jq -e --arg id 0a1b2c '.data["jws-kubeconfig-" + $id] != null' "$fx/cluster-info.json" >/dev/null && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL cluster-info: token 0a1b2c not seen"; }
jq -e --arg id ffffff '.data["jws-kubeconfig-" + $id] != null' "$fx/cluster-info.json" >/dev/null && { fail=$((fail + 1)); echo "FAIL cluster-info: token ffffff seen"; } || pass=$((pass + 1))
# node-names.jq feeds join-material-fresh
[[ "$(jq -r -f "$tpl/node-names.jq.mustache" "$fx/nodes-8-ready.json" | wc -l)" == 8 ]] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL node-names"; }
# kbz-k8s ca-pin (what the cluster-ca step and verify's ca-pinned compare with the pin in credentials/):
# the openssl pipeline on the host gives the fixture's pin; a file that is not a certificate fails.
got=$(sh "$tpl/kbz-k8s.mustache" ca-pin "$fx/ca-fixture.crt")
[[ "$got" == "$(cat "$fx/ca-fixture.pin")" ]] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL ca-pin: got '$got'"; }
sh "$tpl/kbz-k8s.mustache" ca-pin "$fx/expected.tsv" >/dev/null 2>&1 && { fail=$((fail + 1)); echo "FAIL ca-pin accepted a non-certificate"; } || pass=$((pass + 1))
# kbz-k8s ingress-check: the verify/converge decision on the DaemonSet and pods lines, with the helper's
# worker list and pinned image as the module renders them for the five workers.
helper=$(mktemp)
trap 'rm -f "$helper"' EXIT
sed -e 's/^WORKERS=.*/WORKERS="k8s-worker-01 k8s-worker-02 k8s-worker-03 k8s-worker-04 k8s-worker-05 "/' \
    -e 's|^INGRESS_IMAGE=.*|INGRESS_IMAGE="registry.k8s.io/ingress-nginx/controller:v1.11.5"|' "$tpl/kbz-k8s.mustache" >"$helper"
ingress_case() {  # want(0|1) daemonset-fixture pods-fixture
  local rc=0
  sh "$helper" ingress-check "$(jq -r -f "$tpl/daemonset.jq.mustache" "$fx/$2")" "$(jq -r -f "$tpl/pods-running.jq.mustache" "$fx/$3")" >/dev/null || rc=1
  if [[ $rc == "$1" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL ingress-check $2 $3: exit $rc, want $1"; fi
}
ingress_case 0 ingress-ds-5-ready.json ingress-pods-5.json
ingress_case 1 ingress-ds-one-unavailable.json ingress-pods-5.json
ingress_case 1 ingress-ds-old-image.json ingress-pods-5.json
ingress_case 1 ingress-ds-5-ready.json ingress-pods-worker03-crashing.json
ingress_case 1 ingress-ds-5-ready.json calico-pods-one-pending.json
# kbz-k8s workload-check: Prometheus / Grafana ready (verify prometheus-ready, grafana-ready, converge).
workload_case() {  # want(0|1) fixture
  local rc=0
  sh "$helper" workload-check "$(jq -r -f "$tpl/workload-ready.jq.mustache" "$fx/$2")" >/dev/null || rc=1
  if [[ $rc == "$1" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL workload-check $2: exit $rc, want $1"; fi
}
workload_case 0 prometheus-sts-ready.json
workload_case 1 prometheus-sts-pvc-pending.json
workload_case 0 grafana-deploy-ready.json
workload_case 1 grafana-deploy-rolling.json
# kbz-k8s dns / service (verify coredns-from-pod, service-by-name): busybox nslookup outputs (both of its
# formats, failures) and the test client's output, parsed, then the decision.
parse_case() {  # subcommand fixture want-line
  local got
  got=$(sh "$helper" "$1" <"$fx/$2")
  if [[ "$got" == "$3" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1 $2: got '$got', want '$3'"; fi
}
parse_case nslookup-parse nslookup-kubernetes-ok.txt "server=10.96.0.10 name=kubernetes.default.svc.cluster.local address=10.96.0.1"
parse_case nslookup-parse nslookup-kubernetes-small.txt "server=10.96.0.10 name=kubernetes.default.svc.cluster.local address=10.96.0.1"
parse_case nslookup-parse nslookup-kubernetes-nxdomain.txt "server=10.96.0.10 name= address="
parse_case nslookup-parse nslookup-timeout.txt "server= name= address="
parse_case nslookup-parse nslookup-kubernetes-host-resolver.txt "server=169.254.169.254 name=kubernetes.default.svc.cluster.local address=10.96.0.1"
svc=kbz-web.kbz-verify-1764763200-4242.svc.cluster.local
parse_case service-parse service-client-ok.txt "server=10.96.0.10 name=$svc address=10.104.12.7 body=kbz-web-ok"
parse_case service-parse service-client-wget-timeout.txt "server=10.96.0.10 name=$svc address=10.104.12.7 body="
parse_case service-parse service-client-nxdomain.txt "server=10.96.0.10 name= address= body="
decide_case() {  # want(0|1) subcommand subcommand-parse fixture arg2 arg3
  local rc=0
  sh "$helper" "$2" "$(sh "$helper" "$3" <"$fx/$4")" "$5" "$6" >/dev/null || rc=1
  if [[ $rc == "$1" ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $2 $4: exit $rc, want $1"; fi
}
decide_case 0 dns-check nslookup-parse nslookup-kubernetes-ok.txt 10.96.0.1 10.96.0.10
decide_case 0 dns-check nslookup-parse nslookup-kubernetes-small.txt 10.96.0.1 10.96.0.10
decide_case 1 dns-check nslookup-parse nslookup-kubernetes-ok.txt 10.96.0.2 10.96.0.10   # another ClusterIP
decide_case 1 dns-check nslookup-parse nslookup-kubernetes-ok.txt "" ""                   # kubectl gave nothing
decide_case 1 dns-check nslookup-parse nslookup-kubernetes-nxdomain.txt 10.96.0.1 10.96.0.10
decide_case 1 dns-check nslookup-parse nslookup-timeout.txt 10.96.0.1 10.96.0.10
decide_case 1 dns-check nslookup-parse nslookup-kubernetes-host-resolver.txt 10.96.0.1 10.96.0.10  # not CoreDNS
decide_case 0 service-check service-parse service-client-ok.txt "$svc" 10.104.12.7
decide_case 1 service-check service-parse service-client-ok.txt "$svc" 10.104.12.8
decide_case 1 service-check service-parse service-client-ok.txt "kbz-web.other.svc.cluster.local" 10.104.12.7
decide_case 1 service-check service-parse service-client-wget-timeout.txt "$svc" 10.104.12.7
decide_case 1 service-check service-parse service-client-nxdomain.txt "$svc" 10.104.12.7
echo "k8s parsers: $pass passed, $fail failed"
((fail == 0))
