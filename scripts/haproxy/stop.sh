#!/usr/bin/env bash
# Stops a HAProxy started by scripts/haproxy/start.sh and removes its folder.
set -euo pipefail
dir=$1
[ -f "$dir/haproxy.pid" ] && kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
rm -rf "$dir"
