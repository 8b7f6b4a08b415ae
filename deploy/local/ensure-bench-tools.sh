#!/usr/bin/env bash
# Tools `make bench` drives: the load generator wrk (Debian package) and the profiler py-spy
# (pinned in constraints.txt, into .venv). Installed when missing and we may.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

if ! command -v wrk >/dev/null 2>&1; then
  echo "Installing wrk with apt-get ..."
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk \
    || { echo "Could not install wrk; install it yourself: sudo apt-get install wrk" >&2; exit 1; }
fi
if [ ! -x .venv/bin/py-spy ]; then
  .venv/bin/pip install --quiet -c constraints.txt py-spy \
    || { echo "Could not install py-spy; the benchmarks run without it (it is only for profiles)" >&2; }
fi
