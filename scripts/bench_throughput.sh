#!/usr/bin/env bash
# Claims and finishes per second with 1, 2 and 4 worker processes, on SQLite and on PostgreSQL:
# `refit-bench throughput` (Sources/refit-bench/Throughput.swift) once per store.
#
#   scripts/bench_throughput.sh PATH/TO/refit-bench
#
# SQLite always (a scratch file per run). PostgreSQL on the server $BENCH_POSTGRES names (a
# superuser's URL: each run creates and drops a database of its own), else on a private server
# started here with scripts/pg-test-server.sh and stopped at the end; skipped with a note when
# PostgreSQL's server binaries are not installed (scripts/setup.sh installs them).
#
# Settings: BENCH_THROUGHPUT_WINDOWS (runnable windows per run, default 3000),
# BENCH_THROUGHPUT_WORKERS (default 1,2,4), BENCH_THROUGHPUT_REPEAT (runs per worker count,
# default 1), BENCH_THROUGHPUT_STORES ("sqlite postgres" by default; "none" skips the bench).
# Exits 1 when a run fails or prints a WRONG line (a window not run exactly once).
set -euo pipefail

fail() { echo "bench_throughput: $*" >&2; exit 1; }
[ $# -eq 1 ] || fail "usage: $0 PATH/TO/refit-bench"
bench="$1"
[ -x "$bench" ] || fail "$bench is not an executable (build it: swift build -c release --product refit-bench)."

windows="${BENCH_THROUGHPUT_WINDOWS:-3000}"
workers="${BENCH_THROUGHPUT_WORKERS:-1,2,4}"
repeat="${BENCH_THROUGHPUT_REPEAT:-1}"
stores="${BENCH_THROUGHPUT_STORES:-sqlite postgres}"
here="$(cd "$(dirname "$0")" && pwd)"
args=(throughput --windows "$windows" --workers "$workers" --repeat "$repeat")

# Whether initdb and pg_ctl can be found the way pg-test-server.sh looks for them.
have_pg_server() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then return 0; fi
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then return 0; fi
  done
  return 1
}

status=0
for store in $stores; do
  case "$store" in
    none) ;;
    sqlite)
      "$bench" "${args[@]}" || status=1
      ;;
    postgres)
      url="${BENCH_POSTGRES:-}"
      server_dir=""
      if [ -z "$url" ]; then
        if ! have_pg_server; then
          echo "throughput on postgres: skipped (PostgreSQL's server binaries are not installed; scripts/setup.sh installs them, or set BENCH_POSTGRES)"
          continue
        fi
        server_dir="$(mktemp -d "${TMPDIR:-/tmp}/refit-bench-pg-XXXXXX")"
        # Stopped and removed however the bench ends.
        trap 'bash "$here/pg-test-server.sh" stop "$server_dir" >/dev/null 2>&1 || true; rm -rf "$server_dir"' EXIT
        url="$(bash "$here/pg-test-server.sh" start "$server_dir" | tail -n 1)" || fail "could not start a private PostgreSQL server."
      fi
      echo
      "$bench" "${args[@]}" --db "$url" || status=1
      if [ -n "$server_dir" ]; then
        bash "$here/pg-test-server.sh" stop "$server_dir" >/dev/null 2>&1 || true
        rm -rf "$server_dir"
        trap - EXIT
      fi
      ;;
    *) fail "unknown store '$store' in BENCH_THROUGHPUT_STORES (use sqlite, postgres or none)." ;;
  esac
done
exit "$status"
