#!/usr/bin/env bash
# Make sure a local PostgreSQL answers on 127.0.0.1:5432 for user postgres (tests only need this;
# `make run` uses SQLite). Installs it with apt when absent and we may.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}
answers() { psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "PostgreSQL is not installed; installing it with apt-get ..."
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
    || { echo "Could not install PostgreSQL. Install it yourself: sudo apt-get install postgresql" >&2; exit 1; }
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "Starting PostgreSQL $version ..."
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

if ! answers; then
  # A fresh Debian install asks for a password on TCP; the test machine trusts local TCP instead.
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  echo "Letting user postgres connect over 127.0.0.1 without a password (test machine): $hba"
  as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  sleep 1
fi
answers || { echo "PostgreSQL does not accept user postgres on 127.0.0.1:5432" >&2; exit 1; }

# The tests' databases live in a tablespace in memory when the machine has one (/dev/shm): creating
# and dropping a database for every test on the disk cost PostgreSQL about four times the CPU, most of
# it the kernel's (concerns' tests: 37 s of PostgreSQL's CPU on ext4, 7–12 s in memory). A machine
# that restarted has lost the folders; they are made again here. Only tests use this tablespace.
tablespace=beat_tests_in_memory
folder=/dev/shm/beat-postgresql-tests
sql() { psql -h 127.0.0.1 -U postgres -d postgres -Atqc "$1"; }
# The lanes hold dozens of databases of ~8 MB at once: a small /dev/shm (a container's 64 MB) is not used.
room_gb=$(df --output=avail -BG /dev/shm 2>/dev/null | tail -n 1 | tr -dc 0-9)
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ "${room_gb:-0}" -ge 2 ]; then
  catalog="PG_$(sql 'SHOW server_version_num' | cut -c1-2)_$(sql 'SELECT catalog_version_no FROM pg_control_system()')"
  location=$(sql "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = '$tablespace'")
  if [ -z "$location" ]; then
    if as_root install -d -o postgres -m 700 "$folder"; then
      sql "CREATE TABLESPACE $tablespace LOCATION '$folder'" || echo "Could not create the tests' tablespace in $folder; the tests use the default one" >&2
    fi
  elif [ ! -d "$location/$catalog" ]; then
    as_root install -d -o postgres -m 700 "$location" "$location/$catalog" \
      || echo "Could not make $location/$catalog again; the tests use the default tablespace" >&2
  fi
fi
