#!/usr/bin/env bash
# Run a command with the demo city's settings (deploy/local/demo-city.env) in its environment;
# a variable already set keeps its value. `make run`: with-demo-city.sh .venv/bin/beat run
set -euo pipefail

settings="$(dirname "$0")/demo-city.env"
while IFS= read -r line; do
  case "$line" in '' | '#'*) continue ;; esac
  name="${line%%=*}"
  [ -n "${!name:-}" ] || export "$name=${line#*=}"
done <"$settings"
exec "$@"
