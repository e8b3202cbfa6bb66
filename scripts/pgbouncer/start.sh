#!/usr/bin/env bash
# Starts PgBouncer (Debian's pgbouncer package) in transaction mode on 127.0.0.1:${1:-6432}, in front of
# PostgreSQL at ${2:-127.0.0.1:5432}, with the config in this folder. Prints the folder it runs from; stop it
# with scripts/pgbouncer/stop.sh <folder>. PgBouncer refuses to run as root, so it runs as `postgres`.
# PGBOUNCER_BIN runs another build (PgBouncer >= 1.21 keeps named statements in transaction mode);
# PGBOUNCER_MAX_PREPARED_STATEMENTS sets its max_prepared_statements (a setting 1.18 does not know).
set -euo pipefail
port=${1:-6432}
upstream=${2:-127.0.0.1:5432}
here=$(cd "$(dirname "$0")" && pwd)
bin=${PGBOUNCER_BIN:-pgbouncer}
command -v "$bin" >/dev/null || { echo "$bin is not installed: apt-get install -y pgbouncer" >&2; exit 1; }
dir=$(mktemp -d /tmp/gw-pgbouncer.XXXXXX)
sed -e "s#@PORT@#$port#" -e "s#@DIR@#$dir#" -e "s#@UPSTREAM_HOST@#${upstream%:*}#" -e "s#@UPSTREAM_PORT@#${upstream#*:}#" \
  "$here/pgbouncer.ini" >"$dir/pgbouncer.ini"
if [ -n "${PGBOUNCER_MAX_PREPARED_STATEMENTS:-}" ]; then
  echo "max_prepared_statements = $PGBOUNCER_MAX_PREPARED_STATEMENTS" >>"$dir/pgbouncer.ini"
fi
echo '"postgres" ""' >"$dir/userlist.txt"
if [ "$(id -u)" = 0 ]; then
  chown -R postgres "$dir"
  "$bin" -d -u postgres "$dir/pgbouncer.ini"
else
  "$bin" -d "$dir/pgbouncer.ini"
fi
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" && { echo "$dir"; exit 0; }
  sleep 0.1
done
echo "pgbouncer did not start; its log:" >&2
cat "$dir/pgbouncer.log" >&2 || true
exit 1
