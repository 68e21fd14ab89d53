#!/usr/bin/env bash
# Runs every test tier — unit, kernel integration, lab end-to-end — and ends with one line
# "N passed, N failed" (", N skipped" when any were). Exits non-zero on any failure.
# Installs what is missing first (apt packages, NuGet restore). Privileged tiers need root.
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

passed=0 failed=0 skipped=0
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }

scripts/deps.sh test || { echo "could not install the packages the tests need"; echo "0 passed, 1 failed"; exit 1; }

# The root network namespace must look the same after every tier as before: Podnet never
# touches it. Counters and address lifetimes change on their own and are left out.
root_state() {
  ip -j link show | jq -S 'map(del(.stats, .stats64))'
  ip -j addr show | jq -S 'map(del(.stats, .stats64) | .addr_info |= map(del(.valid_life_time, .preferred_life_time)))'
  ip -j route show table all | jq -S 'map(del(.expires))'
  ip -6 -j route show table all | jq -S 'map(del(.expires))'
  ip -j rule show | jq -S .
  nft list ruleset
}
before=$(mktemp) after=$(mktemp) results=$(mktemp -d)
trap 'rm -rf "$before" "$after" "$results"' EXIT
root_state > "$before"

if ! ./podnet build || ! dotnet build Podnet.slnx -c Release --nologo -v quiet -clp:ErrorsOnly; then
  fail "build"
  echo "$passed passed, $failed failed"
  exit 1
fi

# Tiers in order: unit (*.Tests), kernel integration (*.IntegrationTests), lab (*.E2ETests).
projects=()
for pattern in '*.Tests' '*.IntegrationTests' '*.E2ETests'; do
  for dir in tests/$pattern/; do
    [ -f "$dir$(basename "$dir").csproj" ] && projects+=("${dir%/}")
  done
done

for project in "${projects[@]}"; do
  name=$(basename "$project")
  log="$results/$name.log"
  echo "=== $name"
  dotnet test "$project" -c Release --no-build --nologo --blame-hang-timeout 10m 2>&1 | tee "$log"
  summary=$(grep -E '^(Passed|Failed)!' "$log" | tail -n 1)
  if [ -z "$summary" ]; then
    fail "$name: the test run ended without a summary (crash or hang)"
    continue
  fi
  p=$(sed -E 's/.*Passed: *([0-9]+).*/\1/' <<<"$summary")
  f=$(sed -E 's/.*Failed: *([0-9]+).*/\1/' <<<"$summary")
  s=$(sed -E 's/.*Skipped: *([0-9]+).*/\1/' <<<"$summary")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

# Suite-level checks, each counted as one test.
root_state > "$after"
if diff -u "$before" "$after" > "$results/root.diff"; then
  passed=$((passed + 1))
else
  fail "the root network namespace changed during the tests:"
  cat "$results/root.diff"
fi
left=$(ip netns list | awk '{print $1}' | grep -E '^pn-' || true)
if [ -z "$left" ]; then
  passed=$((passed + 1))
else
  fail "test namespaces were left behind: $(echo $left)"
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
