#!/usr/bin/env bash
# bench/dns: dnsperf against `podnet dns` and against Knot serving the same records, one after
# the other on 127.0.0.1:PORT (same path), the server pinned to CPU 0 and dnsperf to CPU 1.
#   bench/dns/bench.sh [SECONDS] [RATE]     defaults: 20 s per run, fixed rate 10000 QPS
#   NAMESPACES=100 PER_NAMESPACE=100 size the model (10,000 Services); OUT=DIR keeps the work files there
# Needs: dotnet, dnsperf, knot (scripts/deps.sh test), taskset; run as root or a user who may
# bind PORT (default 5300). Prints one markdown table; work files stay in $OUT.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
cd "$root"
seconds=${1:-20}
rate=${2:-10000}
port=${PORT:-5300}
out=${OUT:-$(mktemp -d /tmp/podnet-bench-dns.XXXXXX)}
for tool in dnsperf knotd taskset dig curl; do
  command -v "$tool" >/dev/null || { echo "bench/dns: $tool is missing (scripts/deps.sh test installs dnsperf and knot)" >&2; exit 1; }
done

dotnet build src/Podnet.Cli/Podnet.Cli.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2
dotnet build bench/dns/Podnet.Bench.Dns.csproj -c Release --nologo -v quiet -clp:ErrorsOnly >&2

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The model cluster served over a minimal list/watch API (kept up until this script ends), the Knot zones and the mix.
coproc API { dotnet bench/dns/bin/Release/net10.0/Podnet.Bench.Dns.dll "$out" "${NAMESPACES:-100}" "${PER_NAMESPACE:-100}"; }
pids+=("$API_PID")
read -r kubeconfig <&"${API[0]}"
read -r _ <&"${API[0]}"

# Server CPU in microseconds: the sum of every thread's run time (schedstat, in ns).
cpu_us() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s / 1000 }'; }
rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/"$1"/status; }

# run LABEL PID [dnsperf options…]: one dnsperf run; prints a table row.
run() {
  local label=$1 pid=$2; shift 2
  local log=$out/$label.log before after
  before=$(cpu_us "$pid")
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$out/mix.txt" -c 8 -T 1 -l "$seconds" -v "$@" > "$log" 2>&1
  after=$(cpu_us "$pid")
  local completed qps avg lost
  completed=$(awk '/Queries completed:/ { print $3 }' "$log")
  lost=$(awk '/Queries lost:/ { print $3 }' "$log")
  qps=$(awk '/Queries per second:/ { printf "%d", $4 }' "$log")
  avg=$(awk '/Average Latency \(s\):/ { printf "%.3f", $4 * 1000 }' "$log")
  # dnsperf -v prints one line per response; its last field is the latency in seconds.
  read -r p50 p99 < <(awk '/^> / { print $NF * 1000 }' "$log" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }')
  local us_per_query
  us_per_query=$(awk -v c="$completed" -v d="$((after - before))" 'BEGIN { printf "%.2f", d / c }')
  printf '| %s | %s | %s | %s | %s / %s | %s | %s | %s |\n' "$label" "${qps}" "$completed" "$lost" "$p50" "$p99" "$avg" "$us_per_query" "$(rss_mb "$pid")"
}

ready() { for _ in $(seq 200); do dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short dns-version.cluster.local TXT 2>/dev/null | grep -q 1.1.0 && return 0; sleep 0.1; done; echo "bench/dns: $1 did not answer" >&2; exit 1; }

# The answers (status and answer section) to the mix's first 300 queries, for the comparison.
answers() {
  head -n 300 "$out/mix.txt" | while read -r name type; do
    echo "$name $type: $(dig @127.0.0.1 -p "$port" +tries=1 +time=2 +noall +comments +answer "$name" "$type" | grep -oE 'status: [A-Z]+|^[^;].*' | tr -s ' \t' ' ' | sort | tr '\n' ' ')"
  done > "$out/answers-$1.txt"
}

bench_server() {
  local label=$1 pid=$2
  ready "$label"
  answers "${label%% *}"
  # Warm-up (JIT, caches), not reported.
  taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$out/mix.txt" -c 8 -l 3 > /dev/null 2>&1
  run "$label saturation" "$pid" -q 200
  run "$label at ${rate} QPS" "$pid" -q 200 -Q "$rate"
}

echo "| server, load | QPS | completed | lost | latency p50 / p99 ms | avg ms | server CPU µs/query | RSS MB |"
echo "|---|---|---|---|---|---|---|---|"

taskset -c 0 src/Podnet.Cli/bin/Release/net10.0/podnet dns --kubeconfig "$kubeconfig" --listen "127.0.0.1:$port" --workers 1 \
  --metrics-port 19153 --health-port 18080 --ready-port 18181 2> "$out/podnet-dns.log" &
dns=$!
pids+=("$dns")
for _ in $(seq 300); do curl -sf http://127.0.0.1:18181/ready >/dev/null && break; sleep 0.1; done
bench_server "podnet dns" "$dns"
kill "$dns"; wait "$dns" 2>/dev/null || true

cat > "$out/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    rundir: $out
control:
    listen: $out/knot.sock
database:
    storage: $out/knot-db
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: $out
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: cluster.local
    file: cluster.local.zone
  - domain: 96.10.in-addr.arpa
    file: 96.10.in-addr.arpa.zone
  - domain: 244.10.in-addr.arpa
    file: 244.10.in-addr.arpa.zone
CONF
taskset -c 0 knotd -c "$out/knot.conf" 2> "$out/knot.log" &
knot=$!
pids+=("$knot")
bench_server "Knot $(knotd -V | awk '{ print $NF }')" "$knot"
echo
if diff -q "$out/answers-podnet.txt" "$out/answers-Knot.txt" >/dev/null; then
  echo "Same status and answers from both for the mix's first 300 queries."
else
  echo "The answers differ (diff $out/answers-podnet.txt $out/answers-Knot.txt): $(diff "$out/answers-podnet.txt" "$out/answers-Knot.txt" | grep -c '^<') of 300"
fi
for log in "$out"/*saturation.log; do echo "$(basename "$log" .log): $(grep 'Response codes' "$log" | sed 's/^ *//')"; done
echo "work files: $out (dnsperf logs, zones, mix.txt); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
