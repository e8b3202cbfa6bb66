#!/usr/bin/env bash
# Acts on standby <n> of a pair built by start.sh:
#   stop         fast shutdown (sessions are ended)
#   stop-slowly  smart shutdown (new connections refused, sessions go on) for <seconds> (default 3), then fast
#   pause        SIGSTOP of every process of the standby: it accepts connections and answers nothing, as a
#                stalled host or a network partition looks
#   resume       SIGCONT of those processes
#   start
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
dir=$1 action=$2 n=$3
data="$dir/standby$n"
# The postmaster and its children (walreceiver, startup, backends).
processes() {
  local postmaster
  postmaster=$(head -n1 "$data/postmaster.pid")
  echo "$postmaster" $(pgrep -P "$postmaster" || true)
}
case "$action" in
  stop) as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null ;;
  stop-slowly)
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -m smart -w -t "${4:-3}" stop >/dev/null 2>&1 || true
    [ -f "$data/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    ;;
  pause) kill -STOP $(processes) ;;
  resume) kill -CONT $(processes) ;;
  start) as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$data.log" -w start >/dev/null ;;
  *) echo "usage: standby.sh <folder> stop|stop-slowly|pause|resume|start <n> [seconds]" >&2; exit 2 ;;
esac
