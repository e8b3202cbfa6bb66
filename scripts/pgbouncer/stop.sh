#!/usr/bin/env bash
# Stops a PgBouncer started by scripts/pgbouncer/start.sh and removes its folder.
set -euo pipefail
dir=$1
[ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
rm -rf "$dir"
