#!/usr/bin/env bash
# bench/cli: the wall time of one CLI call, median of N runs (default 30), podnet beside kubectl
# for the same request against the same lab (issue 25's targets: get, apply of one object and
# lab status no slower than kubectl; exec under 50 ms; --version under 40 ms). `lab status`
# makes one list of the nodes, so its peer is `kubectl get nodes`; `podnet exec POD -- true`'s
# peer is `ip netns exec` into the same pod's network namespace (the floor: no API, no nsenter
# into the other namespaces), with `kubectl exec` beside it for reference.
# Every podnet command names the lab (--lab, --name) and kubectl gets its kubeconfig: other labs
# may run on the machine (with several, `podnet exec` without --lab is an error).
# Run by hand, as root:   bench/cli/run.sh [N] [KUBECTL_VERSION]
# PODNET_BENCH_NO_BUILD=1 uses bin/ as it is.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-30}
version=${2:-1.33}
lab=benchcli
podnet="$root/bin/podnet"
kubectl="/usr/lib/google-cloud-sdk/bin/kubectl.$version"
work=$(mktemp -d)

[ -n "${PODNET_BENCH_NO_BUILD:-}" ] || "$root/podnet" build >/dev/null 2>&1
"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true
trap '"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$podnet" lab up --name "$lab" --nodes 2 >/dev/null 2>&1
export KUBECONFIG="/var/lib/podnet/labs/$lab/cp/kubeconfig"
"$kubectl" run target --image=busybox --restart=Never --overrides='{"spec":{"nodeName":"n1"}}' --command -- sleep 100000 >/dev/null
"$kubectl" create deployment web --image=busybox --replicas=3 -- sleep 100000 >/dev/null
"$kubectl" expose deployment web --port 80 >/dev/null
"$kubectl" wait --for=condition=Ready pod/target --timeout=120s >/dev/null
uid=$("$kubectl" get pod target -o jsonpath='{.metadata.uid}')
netns=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['Netns'])" "/var/lib/podnet/labs/$lab/nodes/n1/pods/$uid/record.json")
netns=${netns##*/}

# One ConfigMap for each tool (A and B differ), so that re-applying A is "unchanged" and
# alternating A and B is a change every time.
for tool in podnet kubectl; do
  for v in a b; do
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-%s\ndata:\n  value: "%s"\n' "$tool" "$v" >"$work/$tool-$v.yaml"
  done
  if [ "$tool" = podnet ]; then "$podnet" apply -f "$work/$tool-a.yaml" --lab "$lab" >/dev/null; else "$kubectl" apply -f "$work/$tool-a.yaml" >/dev/null; fi
done
flip=0
# Applies the tool's A and B in turn: a change at every call.
apply_change() {
  flip=$((1 - flip))
  local file="$work/$1-$([ $flip = 1 ] && echo b || echo a).yaml"
  if [ "$1" = podnet ]; then "$podnet" apply -f "$file" --lab "$lab"; else "$kubectl" apply -f "$file"; fi
}

# The median wall time in ms of N runs of the command (output discarded; errors, as get of a
# missing pod, are timed as well).
median() {
  local times=()
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(((end - start) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'
}

# A row: what, podnet's median, the peer's, the ratio podnet/peer.
row() {
  local what=$1 mine=$2 peer=$3 name=$4
  printf '%-34s %9s %9s  %-22s %6s\n' "$what" "$mine" "$peer" "$name" "$(awk -v a="$mine" -v b="$peer" 'BEGIN { printf "%.2f", a / b }')"
}
# get ARGS…: podnet get ARGS beside kubectl get ARGS.
get() {
  row "get $*" "$(median "$podnet" get "$@" --lab "$lab")" "$(median "$kubectl" get "$@")" "kubectl $version"
}

printf '%-34s %9s %9s  %-22s %6s\n' "command (median of $runs, ms)" podnet peer "peer" ratio
get pods
get pods -o wide
get pods -A
get pods -o yaml
get pod target -o json
get services -A
get deployments
get nodes
get configmaps -n kube-system -o json
get pod nosuch
row "apply -f (one object, unchanged)" "$(median "$podnet" apply -f "$work/podnet-a.yaml" --lab "$lab")" "$(median "$kubectl" apply -f "$work/kubectl-a.yaml")" "kubectl $version" 
row "apply -f (one object, a change)" "$(median apply_change podnet)" "$(median apply_change kubectl)" "kubectl $version"
row "lab status" "$(median "$podnet" lab status --name "$lab")" "$(median "$kubectl" get nodes)" "kubectl $version get nodes"
row "lab status -o json" "$(median "$podnet" lab status --name "$lab" -o json)" "$(median "$kubectl" get nodes -o json)" "kubectl get nodes -o json"
row "exec target -- true" "$(median "$podnet" exec --lab "$lab" target -- true)" "$(median ip netns exec "$netns" true)" "ip netns exec"
row "exec target -- true (kubectl)" "$(median "$podnet" exec --lab "$lab" target -- true)" "$(median "$kubectl" exec target -- true)" "kubectl $version exec"
row "--version" "$(median "$podnet" --version)" "$(median "$kubectl" version --client)" "kubectl version --client"
row "lab list (handed to podnet-full)" "$(median "$podnet" lab list)" "$(median "$root/bin/podnet-full" lab list)" "podnet-full lab list"
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"
