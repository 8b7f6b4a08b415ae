#!/usr/bin/env bash
# Tools some tests drive: Debian's Chromium and ChromeDriver (dashboard page test) and kubectl
# (renders the Kubernetes overlays), plus any package named as an argument. Installed with apt
# when missing and we may.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

missing=()
for extra in "$@"; do command -v "$extra" >/dev/null 2>&1 || missing+=("$extra"); done  # e.g. wrk for make bench
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)  # the machine image ships a newer kubectl
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing test tools with apt-get: ${missing[*]} ..."
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
    || { echo "Could not install ${missing[*]}; install them yourself with apt-get" >&2; exit 1; }
fi
