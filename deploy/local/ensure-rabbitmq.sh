#!/usr/bin/env bash
# Make sure a local RabbitMQ with the management plugin is running; install it with apt when
# absent and we may (root, or passwordless sudo).
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "RabbitMQ is not installed; installing it with apt-get ..."
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server \
    || { echo "Could not install RabbitMQ. Install it yourself: sudo apt-get install rabbitmq-server" >&2; exit 1; }
fi

if ! as_root rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  echo "Starting RabbitMQ ..."
  as_root rabbitmq-server -detached
  for _ in $(seq 1 90); do
    as_root rabbitmq-diagnostics -q ping >/dev/null 2>&1 && break
    sleep 1
  done
  as_root rabbitmq-diagnostics -q ping >/dev/null 2>&1 || { echo "RabbitMQ did not start" >&2; exit 1; }
fi
as_root rabbitmq-diagnostics -q check_running >/dev/null 2>&1 || as_root rabbitmqctl start_app >/dev/null

if ! as_root rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_management; then
  as_root rabbitmq-plugins enable rabbitmq_management >/dev/null
fi
for _ in $(seq 1 60); do
  curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "RabbitMQ runs, but its management API (port 15672) does not answer" >&2
exit 1
