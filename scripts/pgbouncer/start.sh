#!/usr/bin/env bash
# Starts PgBouncer (Debian's pgbouncer package) in transaction mode on 127.0.0.1:${1:-6432}, in front of
# PostgreSQL at ${2:-127.0.0.1:5432}, with the config in this folder. Prints the folder it runs from; stop it
# with scripts/pgbouncer/stop.sh <folder>. PgBouncer refuses to run as root, so it runs as `postgres`.
set -euo pipefail
port=${1:-6432}
upstream=${2:-127.0.0.1:5432}
here=$(cd "$(dirname "$0")" && pwd)
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed: apt-get install -y pgbouncer" >&2; exit 1; }
dir=$(mktemp -d /tmp/gw-pgbouncer.XXXXXX)
sed -e "s#@PORT@#$port#" -e "s#@DIR@#$dir#" -e "s#@UPSTREAM_HOST@#${upstream%:*}#" -e "s#@UPSTREAM_PORT@#${upstream#*:}#" \
  "$here/pgbouncer.ini" >"$dir/pgbouncer.ini"
echo '"postgres" ""' >"$dir/userlist.txt"
if [ "$(id -u)" = 0 ]; then
  chown -R postgres "$dir"
  pgbouncer -d -u postgres "$dir/pgbouncer.ini"
else
  pgbouncer -d "$dir/pgbouncer.ini"
fi
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" && { echo "$dir"; exit 0; }
  sleep 0.1
done
echo "pgbouncer did not start; its log:" >&2
cat "$dir/pgbouncer.log" >&2 || true
exit 1
