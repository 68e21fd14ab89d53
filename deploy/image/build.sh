#!/usr/bin/env bash
# Builds Podnet's image with podman:
#   deploy/image/build.sh [--tag localhost/podnet:latest] [--podman-root DIR]
# --podman-root keeps the image in DIR (podman's --root/--runroot, vfs driver) instead of the
# machine's container storage; the tests use it.
#
# 1. publishes `podnet` self-contained (ReadyToRun, as ./podnet build) and the NativeAOT CNI
#    plugin into a staging root;
# 2. adds the files of the Debian packages installed here that the image needs: the packages
#    owning nft, conntrack, ip, bridge and nsenter, the packages owning every library those
#    binaries and .NET link (found with ldd), and libssl3/libicu72, which .NET opens at run time;
#    documentation, manuals and translations are left out; /bin, /sbin and /lib are links into
#    /usr, as on this machine;
# 3. `"${podman[@]}" build --network none` from scratch with that root as one layer.
# Nothing touches the host's network: no container runs here, and the build has no network.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
tag=localhost/podnet:latest
podman=(podman)
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --podman-root)
      dir=${2:?--podman-root needs a directory}
      podman=(podman --root "$dir/root" --runroot "$dir/runroot" --storage-driver vfs); shift 2 ;;
    *) echo "build.sh: unknown argument $1 (usage: build.sh [--tag NAME] [--podman-root DIR])" >&2; exit 2 ;;
  esac
done

"$root/scripts/deps.sh" image
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$root/.build/image"
rm -rf "$work/rootfs" "$work/context"
mkdir -p "$work/rootfs" "$work/context"
rootfs="$work/rootfs"

echo "image: publishing podnet (self-contained) and podnet-cni (NativeAOT)" >&2
dotnet publish "$root/src/Podnet.Cli" -c Release -r linux-x64 --self-contained true -p:PublishReadyToRun=true \
  -o "$work/podnet" --nologo -v quiet >&2
dotnet publish "$root/src/Podnet.Cni" -c Release -r linux-x64 -o "$work/cni" --nologo -v quiet >&2

mkdir -p "$rootfs/usr/local/lib/podnet" "$rootfs/usr/local/bin" "$rootfs/opt/podnet/cni" \
  "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/usr/lib" "$rootfs/usr/lib64" \
  "$rootfs/tmp" "$rootfs/run/netns" "$rootfs/var/lib/podnet" "$rootfs/etc"
cp -a "$work/podnet/." "$rootfs/usr/local/lib/podnet/"
rm -f "$rootfs"/usr/local/lib/podnet/*.pdb
ln -s ../lib/podnet/podnet "$rootfs/usr/local/bin/podnet"
cp "$work/cni/podnet-cni" "$rootfs/opt/podnet/cni/podnet-cni"
ln -s podnet-cni "$rootfs/opt/podnet/cni/podnet-ipam"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$rootfs/$d"; done
chmod 1777 "$rootfs/tmp"

# The package that owns a file; dpkg knows some by their pre-merged-/usr path (/bin/ip).
owner() {
  local path=$1
  dpkg-query -S "$path" 2>/dev/null | head -n1 | cut -d: -f1 && return 0
  dpkg-query -S "${path#/usr}" 2>/dev/null | head -n1 | cut -d: -f1 && return 0
  echo "image: no Debian package owns $path" >&2
  return 1
}

tools=()
for t in nft conntrack ip bridge nsenter; do
  p=$(command -v "$t") || { echo "image: $t is not installed" >&2; exit 1; }
  tools+=("$(readlink -f "$p")")
done
# What the tools and .NET's own native parts link (ldd fails on a static binary: ignored).
linked=$( { ldd "${tools[@]}" "$rootfs"/usr/local/lib/podnet/podnet "$rootfs"/usr/local/lib/podnet/*.so \
  "$rootfs/opt/podnet/cni/podnet-cni" 2>/dev/null || true; } | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | grep -v "^$rootfs/" | sort -u)
packages=$( { for f in "${tools[@]}" $linked; do owner "$(readlink -f "$f")"; done; echo libssl3; echo libicu72; echo libc6; } | sed 's/:amd64$//' | sort -u)
echo "image: Debian packages: $(echo $packages)" >&2

# Every regular file and link those packages installed, minus docs; merged-/usr paths.
list="$work/files"
for p in $packages; do dpkg-query -L "$p"; done | sort -u |
  grep -Ev '^/usr/share/(doc|man|info|locale|lintian|bug)/' |
  while IFS= read -r f; do [ -e "$f" ] || [ -L "$f" ] || continue; [ -d "$f" ] && [ ! -L "$f" ] && continue; echo "${f#/}"; done > "$list"
tar -C / --no-recursion -cf - -T "$list" |
  tar -C "$rootfs" --keep-directory-symlink \
    --transform 's,^bin/,usr/bin/,;s,^sbin/,usr/sbin/,;s,^lib/,usr/lib/,;s,^lib64/,usr/lib64/,' -xf -
# Tools run by name from PATH; iproute2 keeps its tables under /etc/iproute2 (in the package).
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\n' > "$rootfs/etc/group"

tar -C "$rootfs" --numeric-owner -cf "$work/context/rootfs.tar" .
cp "$root/deploy/image/Containerfile" "$work/context/Containerfile"
echo "image: podman build -t $tag ($(du -sh "$rootfs" | cut -f1) unpacked)" >&2
"${podman[@]}" build --network none --pull=never -t "$tag" -f "$work/context/Containerfile" "$work/context" >&2
echo "$tag"
