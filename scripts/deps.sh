#!/usr/bin/env bash
# Installs what Podnet needs and is missing, and nothing else.
#   scripts/deps.sh runtime   what the lab and the CLI use
#   scripts/deps.sh test      that, plus what the tests and benchmarks use
#   scripts/deps.sh image     the runtime set, plus what deploy/image/build.sh puts in or uses
# apt-get runs only when a package is missing, so a second run costs a dpkg query.
set -euo pipefail

runtime=(nftables iproute2 conntrack iputils-ping dnsutils curl util-linux)
image=(podman libssl3 libicu72)
test=(chromium jq containernetworking-plugins containerd podman runc iptables e2fsprogs busybox-static knot dnsperf)

wanted=("${runtime[@]}")
case "${1:-runtime}" in
  test) wanted+=("${test[@]}") ;;
  image) wanted+=("${image[@]}") ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "podnet: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "podnet: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # Services that packages would start (containerd, knot) are not wanted: the tests start
  # what they use themselves, in their own namespaces.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
  fi
  apt-get install -y -qq "${missing[@]}" >&2
  [ "$made_policy" = 1 ] && rm -f "$policy"
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "podnet: the .NET 10 SDK (dotnet) is needed to build Podnet and is not on PATH" >&2
  exit 1
fi
