#!/usr/bin/env bash
# Stops (fast shutdown: sessions are ended) or starts standby <n> of a pair built by start.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
dir=$1 action=$2 n=$3
case "$action" in
  stop) as_postgres "$PG_BIN/pg_ctl" -D "$dir/standby$n" -m fast -w stop >/dev/null ;;
  start) as_postgres "$PG_BIN/pg_ctl" -D "$dir/standby$n" -l "$dir/standby$n.log" -w start >/dev/null ;;
  *) echo "usage: standby.sh <folder> stop|start <n>" >&2; exit 2 ;;
esac
