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
echo "k8s parsers: $pass passed, $fail failed"
((fail == 0))
