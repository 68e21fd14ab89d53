#!/usr/bin/env bash
# bench/ui: the lab web view at NODES x PODS_PER_NODE (default 4 x 50): first render
# (navigation start to every node and pod drawn) and update latency (a pod created through the
# API to the page showing it), in Debian's headless chromium, against the issue's targets
# (2 s and 500 ms; no peer draws a lab this way). Run by hand, as root:
#   bench/ui/run.sh [NODES] [PODS_PER_NODE] [UPDATES]
# Needs chromium (scripts/deps.sh test) and Node.js >= 20 (for its WebSocket, to speak the
# DevTools protocol in cdp.mjs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
nodes=${1:-4}
per_node=${2:-50}
updates=${3:-10}
pods=$((nodes * per_node))
lab=benchui
podnet="$root/podnet"
command -v node >/dev/null || { echo "bench/ui needs Node.js >= 20 on PATH" >&2; exit 1; }
command -v chromium >/dev/null || { echo "bench/ui needs chromium (scripts/deps.sh test)" >&2; exit 1; }

"$podnet" build >/dev/null 2>&1
"$podnet" lab down --name "$lab" >/dev/null 2>&1 || true
ui_pid='' chrome_pid=''
cleanup() {
  [ -n "$chrome_pid" ] && kill "$chrome_pid" 2>/dev/null || true
  [ -n "$ui_pid" ] && kill "$ui_pid" 2>/dev/null || true
  "$podnet" lab down --name "$lab" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$podnet" lab up --name "$lab" --nodes "$nodes" >/dev/null 2>&1
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
echo "waiting for $pods pods to be Running" >&2
for _ in $(seq 1 600); do
  running=$("$root/bin/podnet" get pods --lab "$lab" -l app=bench 2>/dev/null | grep -c " Running " || true)
  [ "$running" -ge "$pods" ] && break
  sleep 2
done

out=$(mktemp)
"$root/bin/podnet" lab ui --name "$lab" >"$out" 2>&1 &
ui_pid=$!
for _ in $(seq 1 100); do grep -q http "$out" && break; sleep 0.2; done
url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$out")
chromium --headless --no-sandbox --disable-gpu --remote-debugging-port=19333 --window-size=1600,1000 about:blank >/dev/null 2>&1 &
chrome_pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:19333/json >/dev/null && break; sleep 0.2; done

node --experimental-websocket "$root/bench/ui/cdp.mjs" "$url" 19333 "$nodes" "$pods" "$updates" "$lab" "$root/bin/podnet"
