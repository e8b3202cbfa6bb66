#!/usr/bin/env bash
# Builds a real streaming-replication pair on loopback: `initdb` a primary on port ${1:-55432}, then for each
# further port a standby made with `pg_basebackup -R` (its own replication slot, so a stopped standby catches up).
# Everything lives in a fresh temporary folder, printed on the last line; stop it all with stop.sh <folder>,
# one standby with standby.sh <folder> stop|start <n>. The machine's own server and its pg_hba.conf are untouched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
primary_port=${1:-55432}
shift || true
standby_ports=("${@:-55433}")

dir=$(mktemp -d /tmp/gw-replica.XXXXXX)
chmod 700 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
fail() {
  echo "$1; logs:" >&2
  tail -n 20 "$dir"/*.log >&2 2>/dev/null || true
  "$here/stop.sh" "$dir" >/dev/null 2>&1 || true
  exit 1
}

# A throwaway cluster: no fsync (its durability does not matter), small memory, replication on.
as_postgres "$PG_BIN/initdb" -D "$dir/primary" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
  fail "initdb failed"
cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir'
shared_buffers = 16MB
max_connections = 60
fsync = off
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
CONF
as_postgres "$PG_BIN/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null || fail "the primary did not start"

n=0
for port in "${standby_ports[@]}"; do
  n=$((n + 1))
  as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/standby$n" \
    -R -C -S "standby$n" -X stream >"$dir/basebackup$n.log" 2>&1 || fail "pg_basebackup of standby $n failed"
  echo "port = $port" >>"$dir/standby$n/postgresql.conf"
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/standby$n" -l "$dir/standby$n.log" -w start >/dev/null ||
    fail "standby $n did not start"
done
echo "$dir"
