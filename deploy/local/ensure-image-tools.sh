#!/usr/bin/env bash
# Tools `make images` needs to build and run the images without a Docker daemon: mmdebstrap (the
# Debian base), buildah (builds), podman with runc and the CNI plugins (runs). Installed with apt
# when missing and we may. Then a containers.conf that podman and buildah read, unless the machine
# already has one of its own (we never overwrite it; we say what it needs instead).
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

declare -A package_of=(
  [mmdebstrap]=mmdebstrap [buildah]=buildah [podman]=podman [runc]=runc
  [/usr/lib/cni/bridge]=containernetworking-plugins
)
missing=()
for tool in "${!package_of[@]}"; do
  if [[ $tool == /* ]]; then [ -e "$tool" ] || missing+=("${package_of[$tool]}")
  else command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing image tools with apt-get: ${missing[*]} ..."
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
    || { echo "Could not install ${missing[*]}; install them yourself with apt-get" >&2; exit 1; }
fi

# Why each setting: crun (podman's default) refuses this kind of machine's hybrid cgroups, and
# without systemd podman cannot use the systemd cgroup manager; the container's open-files limit
# and processes limits must not exceed the hard limits the runtime runs under (podman otherwise
# asks for more), or its setrlimit fails at start: nofile is ours; conmon was measured running with
# nproc 32768 whatever our own (96362 here), so nproc is capped there.
conf=${CONTAINERS_CONF:-/etc/containers/containers.conf}  # podman and buildah read CONTAINERS_CONF first
capped() { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }
nofile=$(capped "$(ulimit -Hn)" 65536)
nproc=$(capped "$(ulimit -Hu)" 32768)
wanted="# Written by Beat's deploy/local/ensure-image-tools.sh (make images), which rewrites it while this line is here.
[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"

[containers]
default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]"
if [ ! -e "$conf" ]; then
  echo "Writing $conf (runc, cgroupfs, nofile=$nofile, nproc=$nproc)"
  as_root mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$wanted" | as_root tee "$conf" >/dev/null
elif grep -q "ensure-image-tools.sh" "$conf"; then
  printf '%s\n' "$wanted" | cmp -s - "$conf" || printf '%s\n' "$wanted" | as_root tee "$conf" >/dev/null
elif ! grep -q 'runtime *= *"runc"' "$conf"; then
  echo "note: $conf is the machine's own and left alone; if containers fail to start, set" >&2
  echo "      runtime = \"runc\", cgroup_manager = \"cgroupfs\" and default_ulimits nofile <= $nofile, nproc <= $nproc" >&2
fi
