#!/usr/bin/env bash
# Remove throw-away vhosts that killed test runs left behind (nameko_test_*).
set -euo pipefail
api=${RABBIT_API_URI:-http://guest:guest@127.0.0.1:15672}
for vhost in $(curl -fsS "$api/api/vhosts" | python3 -c 'import json,sys; print("\n".join(v["name"] for v in json.load(sys.stdin) if v["name"].startswith("nameko_test_")))'); do
  curl -fsS -X DELETE "$api/api/vhosts/$vhost" >/dev/null && echo "removed vhost $vhost"
done
