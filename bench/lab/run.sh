#!/usr/bin/env bash
# bench/lab: how long `podnet lab up` takes until every pod of a 4 nodes x 50 pods cluster is
# Ready, and how much memory Podnet's processes hold; beside it, a plain `ip` script that makes
# the same namespaces and veths (the floor: no API, no agents, no CNI). Run by hand, as root:
#   bench/lab/run.sh [--nodes N] [--pods-per-node M]     (or: bench/lab/run.sh [N] [M])
# Defaults 4 x 50; the 100-node lab of bench/lab/README.md is --nodes 100 --pods-per-node 10.
# Prints the times, the ratio to the floor, and the memory of every process of the lab by kind
# (bench/lab/memory.sh), taken when every pod is Ready.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
nodes=4
per_node=50
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --pods-per-node) per_node=$2; shift 2 ;;
    -*) echo "bench/lab: unknown option $1 (--nodes N, --pods-per-node M)" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -ge 1 ] && nodes=${positional[0]}
[ ${#positional[@]} -ge 2 ] && per_node=${positional[1]}
pods=$((nodes * per_node))
lab=bench
podnet="$root/podnet"
now() { date +%s.%N; }
# Waits (at most 60 s) until the CPUs have been at least 90% idle for a second: after a lab or
# the floor's namespaces go, the kernel tears them down in the background for seconds, and
# neither side should be timed on a kernel still busy with the other's leftovers.
cpu_times() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
settle() {
  for _ in $(seq 1 60); do
    read -r total1 idle1 <<<"$(cpu_times)"
    sleep 1
    read -r total2 idle2 <<<"$(cpu_times)"
    [ $(((idle2 - idle1) * 100 / (total2 - total1 + 1))) -ge 90 ] && return
  done
  # Still busy after a minute (other users of the machine): go on, the load average is printed.
  return 0
}

# Builds only when a source is newer than bin/ (./podnet's own check).
"$podnet" --version >/dev/null 2>&1
"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true

# Podnet: lab up, then a Deployment of $pods netexec pods spread by the scheduler.
settle
start=$(now)
up_log=$(mktemp)
if ! "$podnet" lab up --name "$lab" --nodes "$nodes" >"$up_log" 2>&1; then
  echo "bench/lab: lab up failed:" >&2
  tail -20 "$up_log" >&2
  "$podnet" lab down --name "$lab" >/dev/null 2>&1 || true
  exit 1
fi
rm -f "$up_log"
up=$(now)
# Wait until every pod's Ready condition is True, through one watch started before the apply:
# the observer must not load the machine it measures (a kubectl poll every 0.2 s took about
# 0.1 CPU second a look, `podnet get` 0.35).
kubeconfig="/var/lib/podnet/labs/$lab/cp/kubeconfig"
ready_file=$(mktemp)
python3 "$root/bench/lab/ready_watch.py" "$kubeconfig" app=bench "$pods" >"$ready_file" &
watcher=$!
cat <<YAML | "$podnet" apply --lab "$lab" -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench}
spec:
  replicas: $pods
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080", "--udp-port=-1"]
YAML
applied=$(now)
wait "$watcher"
done_at=$(cat "$ready_file")
rm -f "$ready_file"
# CPU seconds of Podnet's processes so far, their own and their waited-for children's (the CNI
# plugin and other short-lived helpers an agent runs), by kind of process (count, sum, largest),
# to show where the time goes.
cpu_report=$(for pid in $(pgrep -f "^$root/bin/podnet" || true); do
  stat=$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null) || continue
  role=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | awk '{n = split($1, p, "/"); if (p[n] != "podnet") print p[n]; else if ($2 == "lab") print "podnet-lab-" $3; else print "podnet-" $2}')
  [ -n "$role" ] && echo "$stat" | awk -v role="$role" '{print role, ($12 + $13) / 100, ($14 + $15) / 100}'
done | sort | awk '
  $1 != role {if (n) printf "    %-22s %5d  own %7.2f s (max %6.2f)  children %7.2f s\n", role, n, own, max, kids; role = $1; n = 0; own = 0; max = 0; kids = 0}
  {n++; own += $2; kids += $3; if ($2 > max) max = $2}
  END {if (n) printf "    %-22s %5d  own %7.2f s (max %6.2f)  children %7.2f s\n", role, n, own, max, kids}')
memory=$("$root/bench/lab/memory.sh" "$root")
"$podnet" lab down --name "$lab" >/dev/null 2>&1

# The floor: the same namespaces and links with ip, no control plane.
settle
floor_start=$(now)
ip netns add pn-flr-fabric
ip -n pn-flr-fabric link add fabric0 type bridge
ip -n pn-flr-fabric link set fabric0 up
for n in $(seq 1 "$nodes"); do
  ip netns add "pn-flr-n$n"
  ip -n pn-flr-fabric link add "n$n" type veth peer name eth0 netns "pn-flr-n$n"
  ip -n pn-flr-fabric link set "n$n" master fabric0 up
  ip -n "pn-flr-n$n" addr add "172.18.0.$((10 + n))/24" dev eth0
  ip -n "pn-flr-n$n" link set eth0 up
  ip -n "pn-flr-n$n" link add pn0 type bridge
  ip -n "pn-flr-n$n" addr add "10.244.$n.1/24" dev pn0
  ip -n "pn-flr-n$n" link set pn0 up
  for p in $(seq 1 "$per_node"); do
    ip netns add "pn-flr-n$n-p$p"
    ip -n "pn-flr-n$n" link add "v$p" type veth peer name eth0 netns "pn-flr-n$n-p$p"
    ip -n "pn-flr-n$n" link set "v$p" master pn0 up
    ip -n "pn-flr-n$n-p$p" addr add "10.244.$n.$((p + 1))/24" dev eth0
    ip -n "pn-flr-n$n-p$p" link set eth0 up
    ip -n "pn-flr-n$n-p$p" route add default via "10.244.$n.1"
  done
done
floor_end=$(now)
for ns in $(ip netns list | awk '{print $1}' | grep '^pn-flr-'); do ip netns del "$ns"; done

total=$(echo "$done_at - $start" | bc)
pods_time=$(echo "$done_at - $applied" | bc)
floor=$(echo "$floor_end - $floor_start" | bc)
printf 'bench/lab: %d nodes x %d pods (%d pods), load average %s\n' "$nodes" "$per_node" "$pods" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  podnet: lab up %.1f s; pods created to all Ready %.1f s; total %.1f s\n' "$(echo "$up - $start" | bc)" "$pods_time" "$total"
printf '  podnet: memory by process when all pods were Ready (RSS; anon and file of the median process):\n%s\n' "$memory"
printf '  podnet: CPU by kind of process: count, sum (largest) (children of an agent: the CNI plugin, pod holders):\n%s\n' "$cpu_report"
printf '  floor (ip script, same namespaces and veths): %.1f s\n' "$floor"
printf '  ratio podnet total / floor: %.2f\n' "$(echo "$total / $floor" | bc -l)"
