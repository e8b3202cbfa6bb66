#!/usr/bin/env bash
# Stops every server of a pair built by start.sh (standbys first) and removes its folder.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
dir=$1
case "$dir" in /tmp/gw-replica.*) ;; *) echo "not a replica folder: $dir" >&2; exit 2 ;; esac
for data in "$dir"/standby* "$dir/primary"; do
  [ -f "$data/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
done
rm -rf "$dir"
