#!/usr/bin/env bash
# bench/loadbalancer: how long a LoadBalancer address takes to move when the node announcing it
# fails. A 3-node lab with a node grace period of GRACE (default 2s), a web pod on every node and
# a LoadBalancer Service; N times (default 20): stop the announcing node (`lab node stop`: link
# down, agent stopped), time until the outside host's neighbour entry names another node and a
# request through the address is answered, then start the node again and wait until it is Ready.
# Prints each failover, the median and the maximum, beside Cilium's documented 10-20 s.
# Run by hand, as root:   bench/loadbalancer/run.sh [N] [GRACE]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-20}
grace=${2:-2s}
lab=benchlb
podnet="$root/podnet"
[ -n "${PODNET_BENCH_NO_BUILD:-}" ] && podnet="$root/bin/podnet"
kubectl=kubectl

[ -n "${PODNET_BENCH_NO_BUILD:-}" ] || "$podnet" build >/dev/null 2>&1
"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true
trap '"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true' EXIT
"$podnet" lab up --name "$lab" --nodes 3 --node-grace "$grace" >/dev/null 2>&1
export KUBECONFIG="/var/lib/podnet/labs/$lab/cp/kubeconfig"
for i in 1 2 3; do
  "$kubectl" run "web-$i" --labels=app=web --image=registry.k8s.io/e2e-test-images/agnhost:2.53 --restart=Never \
    --overrides="{\"spec\":{\"nodeName\":\"n$i\"}}" -- netexec --http-port=8080 >/dev/null
done
"$kubectl" create service loadbalancer web --tcp=80:8080 >/dev/null
"$kubectl" wait --for=condition=Ready pod -l app=web --timeout=120s >/dev/null
lb=""
until [ -n "$lb" ]; do lb=$("$kubectl" get svc web -o jsonpath='{.status.loadBalancer.ingress[0].ip}'); sleep 0.2; done
out="pn-$lab-out"
until ip netns exec "$out" curl -sf --max-time 1 "http://$lb/hostname" >/dev/null; do sleep 0.2; done

# The running nodes holding the address (a stopped node keeps it on its downed link).
holders() { for n in n1 n2 n3; do [ "$n" = "${1:-}" ] && continue; ip -n "pn-$lab-$n" -o addr show dev eth0 | grep -q " $lb/32 " && echo "$n"; done; true; }
mac() { ip -n "pn-$lab-$1" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
settled() {
  local held
  held=$(holders)
  [ -n "$held" ] && [ "$(echo "$held" | wc -l)" = 1 ] || return 1
  ip netns exec "$out" curl -sf --max-time 1 "http://$lb/hostname" >/dev/null || return 1
  [ "$(neighbour)" = "$(mac "$held")" ]
}
neighbour() { ip -n "$out" -j neigh show "$lb" | python3 -c 'import json,sys; n=[e.get("lladdr") for e in json.load(sys.stdin) if e.get("lladdr")]; print(n[0] if n else "")'; }

times=()
for run in $(seq 1 "$runs"); do
  # A settled start: one node holds the address and the outside host's entry names it.
  until settled; do sleep 0.1; done
  from=$(holders | head -1)
  [ -n "$from" ] || continue   # the holder changed since it settled (a node's Lease lapsed on a loaded machine)
  old=$(mac "$from")
  start=$(date +%s%N)
  "$podnet" lab node stop "$from" --name "$lab" >/dev/null 2>&1
  until [ "$(neighbour)" != "$old" ] && [ -n "$(neighbour)" ] && ip netns exec "$out" curl -sf --max-time 1 "http://$lb/hostname" >/dev/null; do sleep 0.05; done
  end=$(date +%s%N)
  ms=$(((end - start) / 1000000))
  times+=("$ms")
  echo "failover $run: $from -> $(holders "$from") in $ms ms"
  "$podnet" lab node start "$from" --name "$lab" >/dev/null 2>&1
  "$kubectl" wait --for=condition=Ready "node/$from" --timeout=120s >/dev/null
  "$kubectl" wait --for=condition=Ready pod -l app=web --timeout=120s >/dev/null
done
printf '%s\n' "${times[@]}" | sort -n | awk -v grace="$grace" '{a[NR]=$1} END {
  m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
  printf "podnet: median %.1f s, max %.1f s over %d failovers (node grace %s, counted from `lab node stop`)\n", m / 1000, a[NR] / 1000, NR, grace
  printf "cilium L2 announcements (documented in l2-announcements.rst, default leaseDuration 15 s, leaseRenewDeadline 5 s): 10-20 s\n" }'
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"
