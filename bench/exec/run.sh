#!/usr/bin/env bash
# bench/exec: the time of one `kubectl exec POD -- true` (median of N, default 50), beside
# `podnet exec POD -- true` (the local shortcut: nsenter from the CLI) and a bare `nsenter`
# into the same pod's namespaces (the floor: no API server, no kubelet, no WebSocket).
# Run by hand, as root:   bench/exec/run.sh [N] [KUBECTL_VERSION]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-50}
version=${2:-1.33}
lab=benchexec
podnet="$root/podnet"
[ -n "${PODNET_BENCH_NO_BUILD:-}" ] && podnet="$root/bin/podnet"
kubectl="/usr/lib/google-cloud-sdk/bin/kubectl.$version"

[ -n "${PODNET_BENCH_NO_BUILD:-}" ] || "$podnet" build >/dev/null 2>&1
"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true
trap '"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true' EXIT
"$podnet" lab up --name "$lab" --nodes 1 >/dev/null 2>&1
export KUBECONFIG="/var/lib/podnet/labs/$lab/cp/kubeconfig"
"$kubectl" run target --image=busybox --restart=Never --overrides='{"spec":{"nodeName":"n1"}}' --command -- sleep 3600 >/dev/null
"$kubectl" wait --for=condition=Ready pod/target --timeout=60s >/dev/null
uid=$("$kubectl" get pod target -o jsonpath='{.metadata.uid}')
holder=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['HolderPid'])" "/var/lib/podnet/labs/$lab/nodes/n1/pods/$uid/record.json")

# Prints the median wall time in ms of N runs of the command.
median() {
  local times=()
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1000}'
}

echo "kubectl $version exec: $(median "$kubectl" exec target -- true) ms"
echo "podnet exec:        $(median "$root/bin/podnet" exec --lab "$lab" target -- true) ms"
echo "nsenter:            $(median nsenter --target "$holder" --mount --uts --net -- true) ms"
echo "(median of $runs, load average: $(cut -d' ' -f1-3 /proc/loadavg))"
