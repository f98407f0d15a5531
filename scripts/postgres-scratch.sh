#!/bin/bash
# A throwaway PostgreSQL server for the tests, from Debian's postgresql package (15): initdb and
# pg_ctl into a directory of its own, listening only on a Unix socket in that directory (no TCP
# port, so parallel runs and a host's own cluster never collide).
#   usage: scripts/postgres-scratch.sh start DIR   prints the URL to reach it, e.g.
#                                                  postgresql:///postgres?host=DIR&user=accord
#          scripts/postgres-scratch.sh stop DIR    stops it (fast shutdown) and removes DIR
#          scripts/postgres-scratch.sh down DIR    stops it at once (immediate: as a crash), keeps DIR
#          scripts/postgres-scratch.sh up DIR      starts it again on DIR after down (an outage)
#          scripts/postgres-scratch.sh COMMAND...  starts one in a scratch directory, runs COMMAND
#                                                  with ACCORD_TEST_POSTGRES=URL, stops it, and
#                                                  exits with COMMAND's status
# Run as root, the server runs as the `postgres` user (runuser; PostgreSQL refuses to run as root)
# and DIR is handed to it. The superuser role is `accord`, trusted on the socket; a second role,
# `accord_password` (password "scratch-password"), must give its password (scram-sha-256), so
# that tests can exercise password-file. Nothing else on the host is touched.
# PG_BIN overrides /usr/lib/postgresql/15/bin. Exit status 125: the server could not start.
set -euo pipefail
me=postgres-scratch
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
die() { printf '%s: %s\n' "$me" "$*" >&2; exit 125; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts the server on an initialized DIR.
serve() {
  local dir=$1
  # fsync off: test data only; max_connections 200: the e2e suite runs many daemons at once.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; die "pg_ctl start failed"; }
}

start() {
  local dir=$1
  [ -x "$bin/initdb" ] || die "$bin/initdb not found: apt-get install postgresql (scripts/bootstrap.sh does)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # 103 bytes: the socket path DIR/.s.PGSQL.5432 must fit a Unix socket's 107.
  [ ${#dir} -le 90 ] || die "$dir is too long for a Unix socket path (at most 90 characters)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  chmod 0755 "$dir"
  # --no-sync: a test database need not survive a power cut; initdb takes 1 s instead of 3.
  as_owner "$bin/initdb" -D "$dir/data" -U accord --auth-local=trust --auth-host=reject \
    --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # The password-checked role first: pg_hba.conf takes the first line that matches.
  as_owner sh -c "{ echo 'local all accord_password scram-sha-256'; cat '$dir/data/pg_hba.conf'; } >'$dir/hba' && mv '$dir/hba' '$dir/data/pg_hba.conf'"
  serve "$dir"
  "$bin/psql" -X -q -h "$dir" -U accord -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE accord_password LOGIN SUPERUSER PASSWORD 'scratch-password'" >/dev/null \
    || die "could not create the role accord_password"
  printf 'postgresql:///postgres?host=%s&user=accord\n' "$dir"
}

stop() {
  local dir=$1
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  down) [ $# -eq 2 ] || die "usage: $0 down DIR"; as_owner "$bin/pg_ctl" -D "$2/data" -m immediate -w -t 30 stop >/dev/null ;;
  up) [ $# -eq 2 ] || die "usage: $0 up DIR"; serve "$(cd "$2" && pwd)" ;;
  "") die "usage: $0 start DIR | stop DIR | down DIR | up DIR | COMMAND..." ;;
  *)
    dir=$(mktemp -d /tmp/accord-pg.XXXXXX)
    trap 'stop "$dir"' EXIT
    url=$(start "$dir")
    set +e
    ACCORD_TEST_POSTGRES=$url "$@"
    status=$?
    set -e
    exit $status
    ;;
esac
