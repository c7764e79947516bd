#!/usr/bin/env bash
# Runs the already built tests under a watchdog (`make test`). A hung run fails after
# TEST_TIMEOUT seconds instead of stalling CI, and then names the tests that started but never
# ended, with the processes still running under the test runner, so the hang can be found.
set -uo pipefail

timeout_s="${TEST_TIMEOUT:-1500}"
swift="${SWIFT:-swift}"
log="$(mktemp -t refit-tests.XXXXXX)"
snapshot="$log.ps"
trap 'rm -f "$log" "$snapshot"' EXIT

( timeout --kill-after=30 "$timeout_s" "$swift" test --skip-build 2>&1 | tee "$log"; exit "${PIPESTATUS[0]}" ) &
pipeline=$!
# While the run lasts, keep a snapshot of the process tree for the report.
while kill -0 "$pipeline" 2>/dev/null; do
    ps -eo pid,ppid,etimes,args --forest > "$snapshot.new" 2>/dev/null && mv "$snapshot.new" "$snapshot"
    sleep 2
done
wait "$pipeline"
rc=$?
if [ "$rc" -ne 0 ] && ! grep -qE "Test run with [0-9]+ tests? .* (passed|failed) after" "$log"; then
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "make test: the test run did not finish within TEST_TIMEOUT=${timeout_s} s." >&2
    else
        echo "make test: the test run ended without its summary (exit status $rc)." >&2
    fi
    echo "Tests that started but never ended:" >&2
    python3 - "$log" >&2 <<'PY'
import re, sys
started, ended = [], set()
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    m = re.search(r"Test (.+?) started\.$", line)
    if m:
        started.append(m.group(1))
    m = re.search(r"Test (.+?) (passed|failed)( after| with)", line)
    if m:
        ended.add(m.group(1))
for name in started:
    if name not in ended:
        print("  " + name)
PY
    if [ -f "$snapshot" ]; then
        echo "Processes in the last snapshot (pid ppid seconds command):" >&2
        grep -v " ps -eo " "$snapshot" | grep -E "refit|moto|python3|swift-test|PackageTests" >&2 || true
    fi
fi
exit "$rc"
