#!/usr/bin/env bash
# A private, throwaway PostgreSQL server for tests: `start DIR` runs initdb and pg_ctl in DIR
# (the cluster in DIR/data, its socket and log in DIR) on a free loopback port with trust
# authentication on 127.0.0.1 only, creates the database `refit` owned by the superuser `refit`,
# and prints its URL; `url DIR` prints it again; `stop DIR` stops the server (DIR stays, and a
# later `start DIR` uses the same port again when it is free);
# `restart DIR` stops it fast (open sessions are cut off mid-transaction) and starts it again on
# the same port, for tests of reconnecting.
#
# One exception to trust: the role `refit_pw` (which tests create with a password, to check
# that Refit hands a password to libpq) must authenticate with scram-sha-256 over TCP. A
# cluster made by an older copy of this script keeps its pg_hba.conf (trust for everyone).
#
# initdb refuses to run as root: run as root, the server runs as the system user `refit-pg`
# (created with useradd when missing; override with REFIT_PG_USER), and DIR is given to it.
# The binaries come from PATH, else the newest /usr/lib/postgresql/*/bin (Debian's layout).
set -euo pipefail

fail() { echo "pg-test-server: $*" >&2; exit 1; }
usage() { fail "usage: $0 start|stop|restart|url DIR"; }

[ $# -eq 2 ] || usage
cmd="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"

find_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    # Through symlinks (/usr/local/bin -> /usr/lib/postgresql/N/bin), where createdb lives too.
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  local candidate
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then echo "$candidate"; return; fi
  done
  fail "initdb and pg_ctl were not found on PATH nor under /usr/lib/postgresql/*/bin; install the postgresql package (scripts/setup.sh does)."
}

# Runs a command as the server's user: ourselves, or REFIT_PG_USER when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

owner="$(id -un)"
if [ "$(id -u)" -eq 0 ]; then
  owner="${REFIT_PG_USER:-refit-pg}"
  if ! id "$owner" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$owner" \
      || fail "could not create the system user $owner to run PostgreSQL as (initdb refuses root)."
  fi
fi

url() {
  [ -f "$dir/port" ] || fail "no server was started in $dir (run: $0 start $dir)."
  echo "postgres://refit@127.0.0.1:$(cat "$dir/port")/refit"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "$cmd" in
  start)
    bin="$(find_bin)"
    if [ -f "$dir/port" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      url
      exit 0
    fi
    [ "$(id -u)" -ne 0 ] || chown "$owner" "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U refit --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync \
        >"$dir/initdb.log" 2>&1 || fail "initdb failed; see $dir/initdb.log."
      {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "max_connections = 200"
      } | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
      # Loopback only, no password (but for refit_pw): the server lives as long as the tests that use it.
      printf 'local all all trust\nhost all refit_pw 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n' \
        | as_owner tee "$dir/data/pg_hba.conf" >/dev/null
    fi
    # A server stopped before comes back on its port when that is free (clients' URLs stay valid).
    previous="$(cat "$dir/last-port" 2>/dev/null || true)"
    for _ in 1 2 3 4 5; do
      port="${previous:-$(free_port)}"
      previous=""
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 30 start >/dev/null 2>&1; then
        echo "$port" >"$dir/port"
        rm -f "$dir/last-port"
        # The database refit exists already when a stopped cluster is started again.
        if ! created="$("$bin/createdb" -h 127.0.0.1 -p "$port" -U refit refit 2>&1)"; then
          echo "$created" >>"$dir/server.log"
          case "$created" in
            *"already exists"*) ;;
            *) fail "the server started but creating the database refit failed; see $dir/server.log." ;;
          esac
        fi
        url
        exit 0
      fi
    done
    fail "PostgreSQL did not start; see $dir/server.log."
    ;;
  stop)
    bin="$(find_bin)"
    [ -d "$dir/data" ] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    if [ -f "$dir/port" ]; then mv "$dir/port" "$dir/last-port"; fi
    ;;
  restart)
    bin="$(find_bin)"
    [ -f "$dir/port" ] || fail "no server was started in $dir (run: $0 start $dir)."
    port="$(cat "$dir/port")"
    # -m fast: sessions are terminated and open transactions rolled back, as in a crash of the
    # connection; the server comes back on the same port, so clients' URLs stay valid.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -o "-p $port" -w -t 60 restart >/dev/null 2>&1 \
      || fail "PostgreSQL did not restart; see $dir/server.log."
    url
    ;;
  url)
    url
    ;;
  *)
    usage
    ;;
esac
