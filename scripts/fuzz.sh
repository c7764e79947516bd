#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer harness (Fuzz/, its own package) in .build-fuzz and runs it
# for FUZZ_SECONDS over a corpus seeded, at run time, from the test fixtures and schedules/.
# Findings land in .build-fuzz/findings/; each one should become a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
scratch="$PWD/.build-fuzz"
seeds="$scratch/seeds"        # regenerated every run from the fixtures
corpus="$scratch/corpus"      # grows across runs; never committed
findings="$scratch/findings"

# libFuzzer ships with the Swift toolchain on Linux; without it there is nothing to run.
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf '@_cdecl("LLVMFuzzerTestOneInput") public func f(_ d: UnsafePointer<UInt8>, _ n: Int) -> CInt { 0 }\n' > "$probe/p.swift"
if ! swiftc -parse-as-library -sanitize=fuzzer "$probe/p.swift" -o "$probe/p" >/dev/null 2>&1; then
  echo "fuzz: this Swift toolchain has no libFuzzer (-sanitize=fuzzer); nothing to run" >&2
  exit 1
fi

# -sanitize=fuzzer on every Swift target, so RefitCore and RefitDefinitions carry the coverage
# instrumentation libFuzzer steers by (the harness alone would leave it blind).
build=($SWIFT build --package-path Fuzz --scratch-path "$scratch" -c release -Xswiftc -sanitize=fuzzer)
echo "fuzz: building the harness in .build-fuzz"
"${build[@]}" --product refit-fuzz
bin="$("${build[@]}" --show-bin-path)/refit-fuzz"

rm -rf "$seeds"; mkdir -p "$seeds" "$corpus" "$findings"
find Tests/RefitDefinitionsTests/Fixtures schedules -type f \
  \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' -o -name '*.fragment' \) -size -64k \
  -exec sh -c 'for f; do cp "$f" "$0/$(printf %s "$f" | tr / _)"; done' "$seeds" {} +
# Expressions, templates and .NET formats as they appear in definitions.
i=0
for s in 'Date.AddDays(SliceStart, -1)' 'Date.AddHours(Date.StartOfDay(SliceEnd), 23)' \
         "Text.Format('{0:yyyy}/{0:MM}', WindowStart)" 'yyyy/MM/dd HH' "yyyy'-'MM'-'dd" 'HH\\:mm' 'dddd, MMMM %d' \
         $'name: A\nproperties:\n  a: &x [1, 2]\n  b: *x\n  c: !env X\n  t: 10:00:00\n'; do
  printf '%s' "$s" > "$seeds/seed-$i"; i=$((i + 1))
done

log="$scratch/last-run.log"
echo "fuzz: running for ${FUZZ_SECONDS} s ($(ls "$seeds" | wc -l) seeds, corpus in .build-fuzz/corpus)"
set +e
"$bin" "$corpus" "$seeds" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -dict=Fuzz/definitions.dict -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1
status=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
if [ "$status" -ne 0 ]; then
  tail -40 "$log" >&2
  echo "fuzz: FAILED after ${runs:-?} executions; the input is in .build-fuzz/findings/ (log: $log)" >&2
  exit 1
fi
echo "fuzz: ${runs:-?} executions in ${FUZZ_SECONDS} s (${secs:-?}/s), 0 crashes, 0 timeouts (log: $log)"
