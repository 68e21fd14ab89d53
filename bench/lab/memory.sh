#!/usr/bin/env bash
# bench/lab/memory.sh: the memory of a running lab's processes, per kind of process: how many,
# the median and largest resident set (VmRSS), and the anonymous part (RssAnon:
# the process's own heap and code) and the file part (RssFile: pages of the executable, the
# runtime and the assemblies, which processes of one binary share in the page cache) of the process with the median RSS.
#   bench/lab/memory.sh [ROOT]    ROOT: the checkout whose bin/ the lab runs (default: this one)
# Kinds: each `podnet VERB` (agent, controllers, dns, serve, lab supervisor…), the other
# binaries by name, and a pod's holder (everything of the pod sandbox that is not a container:
# podnet-holder; before it unshare, sh and sleep, found by the pod namespace they live in).
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
host_net=$(readlink /proc/self/ns/net)

kind_of() {
  local pid=$1 exe argv0 verb
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  mapfile -d '' -t argv <"/proc/$pid/cmdline" 2>/dev/null || return 1
  argv0=${argv[0]:-}
  case "$exe" in
    "$root/bin/podnet" | */dotnet)
      [ "$argv0" = "$root/bin/podnet" ] || [ "$exe" = "$root/bin/podnet" ] || return 1
      verb=${argv[1]:-}
      [ "$verb" = lab ] && verb="lab-${argv[2]:-}"
      echo "podnet-$verb"
      return 0 ;;
    "$root/bin/"*) basename "$exe"; return 0 ;;
  esac
  # A pod's holder: in a pod's network namespace (not the host's), one of the sandbox's programs.
  [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$host_net" ] || return 1
  case "$(basename "$exe")" in
    unshare) [[ " ${argv[*]} " == *" --kill-child "*" -c set -e; mount -t tmpfs"* ]] && echo holder-unshare || return 1 ;;
    dash | bash | sh) [[ "${argv[*]}" == *"mount -t tmpfs -o mode=755 tmpfs /run"* ]] && echo holder-sh || return 1 ;;
    sleep) [ "${argv[1]:-}" = 2147483647 ] && echo holder-sleep || return 1 ;;
    *) return 1 ;;
  esac
}

for status in /proc/[0-9]*/status; do
  pid=${status#/proc/}
  pid=${pid%/status}
  kind=$(kind_of "$pid") || continue
  awk -v kind="$kind" '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} /^RssShmem:/ {s = $2}
    END {if (r > 0) print kind, r, a, f + s}' "$status" 2>/dev/null || true
done | sort -k1,1 -k2,2n | awk '
  function flush() {
    if (n == 0) return
    printf "  %-22s %5d %9.1f %9.1f %9.1f %9.1f %10.1f\n", kind, n, rss[int((n + 1) / 2)] / 1024, rss[n] / 1024,
      anon[int((n + 1) / 2)] / 1024, file[int((n + 1) / 2)] / 1024, total / 1024
    all += total
  }
  BEGIN {printf "  %-22s %5s %9s %9s %9s %9s %10s\n", "process", "count", "RSS med", "RSS max", "anon med", "file med", "RSS sum"
         printf "  %-22s %5s %9s %9s %9s %9s %10s\n", "", "", "MiB", "MiB", "MiB", "MiB", "MiB"}
  $1 != kind {flush(); kind = $1; n = 0; total = 0}
  {n++; rss[n] = $2; anon[n] = $3; file[n] = $4; total += $2}
  END {flush(); printf "  %-22s %5s %9s %9s %9s %9s %10.1f\n", "all", "", "", "", "", "", all / 1024}'
