#!/usr/bin/env bash
# bench/exec: the time of one `kubectl exec POD -- true` (median of N, default 50), beside
# `podnet exec POD -- true` (the local shortcut: nsenter from the CLI) and a bare `nsenter`
# into the same pod's namespaces (the floor: no API server, no kubelet, no WebSocket); then the
# throughput of one connection through `kubectl port-forward` beside a direct connection from
# inside the pod's network namespace, and of a stream through `kubectl exec`, `podnet exec` and
# nsenter (MB/s, best of 3, SIZE MiB each, default 256).
# Run by hand, as root:   bench/exec/run.sh [N] [KUBECTL_VERSION] [SIZE]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-50}
version=${2:-1.33}
size=${3:-256}
lab=benchexec
podnet="$root/podnet"
[ -n "${PODNET_BENCH_NO_BUILD:-}" ] && podnet="$root/bin/podnet"
kubectl="/usr/lib/google-cloud-sdk/bin/kubectl.$version"

[ -n "${PODNET_BENCH_NO_BUILD:-}" ] || "$podnet" build >/dev/null 2>&1
"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true
trap '"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true' EXIT
"$podnet" lab up --name "$lab" --nodes 1 >/dev/null 2>&1
export KUBECONFIG="/var/lib/podnet/labs/$lab/cp/kubeconfig"
# The pod serves a SIZE MiB file over HTTP from its own /run (a tmpfs in its mount namespace).
"$kubectl" run target --image=busybox --restart=Never --overrides='{"spec":{"nodeName":"n1"}}' --command -- \
  sh -c "head -c ${size}M /dev/zero > /run/big && cd /run && exec /usr/bin/python3 -m http.server 8000" >/dev/null
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

# Throughput: best of 3 transfers of the SIZE MiB file, in MB/s (10^6 bytes per second).
best() {
  local top=0
  for _ in 1 2 3; do
    local rate
    rate=$("$@")
    top=$(awk -v a="$top" -v b="$rate" 'BEGIN { print (b > a) ? b : a }')
  done
  printf '%.1f' "$(awk -v r="$top" 'BEGIN { print r / 1000000 }')"
}
# curl's download speed in bytes/s.
fetch() { curl -s -o /dev/null -w '%{speed_download}' "$1"; }
# Bytes/s of a command writing the file to its stdout.
stream() {
  local start end
  start=$(date +%s%N)
  "$@" | wc -c >/dev/null
  end=$(date +%s%N)
  awk -v bytes=$((size * 1048576)) -v ns=$((end - start)) 'BEGIN { print bytes / (ns / 1e9) }'
}
for _ in $(seq 1 100); do
  nsenter --target "$holder" --net -- curl -s -o /dev/null "http://127.0.0.1:8000/big" && break
  sleep 0.1
done
port=18${RANDOM:0:3}
"$kubectl" port-forward pod/target "$port:8000" >/dev/null 2>&1 &
forward=$!
trap 'kill $forward 2>/dev/null; "$podnet" lab down --name "$lab" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
echo "kubectl $version port-forward, one connection: $(best fetch "http://127.0.0.1:$port/big") MB/s"
echo "direct, inside the pod's network namespace:   $(best nsenter --target "$holder" --net -- curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:8000/big") MB/s"
echo "kubectl $version exec -- cat:                 $(best stream "$kubectl" exec target -- cat /run/big) MB/s"
echo "podnet exec -- cat:                         $(best stream "$root/bin/podnet" exec --lab "$lab" target -- cat /run/big) MB/s"
echo "nsenter -- cat:                             $(best stream nsenter --target "$holder" --mount --uts --net -- cat /run/big) MB/s"
echo "(${size} MiB each, best of 3, load average: $(cut -d' ' -f1-3 /proc/loadavg))"
