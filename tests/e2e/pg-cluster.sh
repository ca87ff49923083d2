#!/usr/bin/env bash
# A private PostgreSQL cluster for the end-to-end test and the benchmark: its own data dir, a
# loopback port, run as `nobody` when called as root (PostgreSQL refuses root).
#   pg-cluster.sh start DIR PORT [DBNAME...]   initdb + pg_ctl start, then CREATE DATABASE each name
#   pg-cluster.sh stop DIR                     stop (immediate) and remove DIR
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found: run make deps-postgres" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    port=${3:?port}
    shift 3
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown nobody: "$dir"; fi
    cd "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" -w start >/dev/null
    for db in "$@"; do
      psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
    done
    echo "postgres cluster on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      (cd "$dir" && as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR PORT [DB...] | stop DIR" >&2; exit 2 ;;
esac
