#!/usr/bin/env bash
# First start of the PostgreSQL container only (docker-entrypoint-initdb.d): one role and one
# database per service, each role owning only its own database. Passwords come from the
# container's environment (deploy/compose/.env), never from this file.
set -euo pipefail

for service in concerns referrals notifications surveys; do
  password_var="${service^^}_DB_PASSWORD"
  password="${!password_var:?$password_var is not set}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       --set=role="$service" --set=password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
  echo "created database and role $service"
done
