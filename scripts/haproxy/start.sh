#!/usr/bin/env bash
# Starts HAProxy (Debian's haproxy package) on 127.0.0.1:$1 in front of the instances given as host:port
# ($2 ...), with the config in this folder. Prints the folder it runs from; stop it with
# scripts/haproxy/stop.sh <folder>.
set -euo pipefail
port=$1
shift
[ $# -gt 0 ] || { echo "usage: $0 <port> <host:port>..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
command -v haproxy >/dev/null || { echo "haproxy is not installed: apt-get install -y haproxy" >&2; exit 1; }
dir=$(mktemp -d /tmp/gw-haproxy.XXXXXX)
servers=""
n=0
for upstream in "$@"; do
  n=$((n + 1))
  servers+="  server app$n $upstream check"$'\n'
done
awk -v servers="$servers" -v dir="$dir" -v port="$port" '
  /@SERVERS@/ { printf "%s", servers; next }
  { gsub("@DIR@", dir); gsub("@PORT@", port); print }
' "$here/haproxy.cfg" >"$dir/haproxy.cfg"
haproxy -c -q -f "$dir/haproxy.cfg"
haproxy -D -f "$dir/haproxy.cfg"
for _ in $(seq 1 50); do
  [ -f "$dir/haproxy.pid" ] && { echo "$dir"; exit 0; }
  sleep 0.1
done
echo "haproxy did not start" >&2
exit 1
