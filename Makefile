# Refit — the two commands a newcomer needs are `make test` and (with the worker) `make demo`.
SWIFT ?= swift

.PHONY: setup build test soak bench bench-chain bench-floor bench-peers bench-throughput demo release migrations clean fuzz order-file release-flags

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

# Release builds link the Swift runtime and Foundation into the binary (decision record 20):
# about 6 MiB less resident memory per process and a faster start, for a larger file. They link
# with the toolchain's lld, export no symbols and pack relative relocations (decision record 29):
# about 7 MiB less again for a worker, as the loader reads and writes far fewer pages at start.
# Every function gets a section of its own, and scripts/refit.order (made by scripts/order_file.py)
# puts the ones the worker runs side by side at the front of the code (decision record 32): about
# 6 MiB less resident code per worker. scripts/refit-hot.ld (made by the same script) puts in front
# of them the functions the list cannot name: those without a symbol, and names defined in several
# objects (decision record 38). A stale list costs memory, never correctness.
RELEASE = -c release --static-swift-stdlib -Xswiftc -use-ld=lld \
	-Xlinker --no-export-dynamic -Xlinker -z -Xlinker pack-relative-relocs \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
	-Xlinker --symbol-ordering-file=$(CURDIR)/scripts/refit.order -Xlinker --no-warn-symbol-ordering \
	-Xlinker --script=$(CURDIR)/scripts/refit-hot.ld

# SwiftPM does not compile objects again when only compiler flags change; a release build made with
# other RELEASE flags is removed first (scripts/release-flags.sh).
release-flags:
	@SWIFT=$(SWIFT) bash scripts/release-flags.sh '$(RELEASE)'

release: setup release-flags
	$(SWIFT) build $(RELEASE)

# Builds everything and runs every test (unit, store, HTTP, emulator, activities, worker, CLI).
# The watchdog turns a hung test run into a clear failure instead of a stalled CI job.
TEST_TIMEOUT ?= 900
test: setup
	$(SWIFT) build --build-tests
	TEST_TIMEOUT=$(TEST_TIMEOUT) SWIFT=$(SWIFT) bash scripts/run-tests.sh
	timeout --kill-after=30 300 python3 scripts/soak.py --kills 50 --seed 1 --minutes 4 --hours 24 --allow-terminal \
		--bin-dir "$$($(SWIFT) build --show-bin-path)"

# Proof at scale (outside `make test`): 1,000 SIGKILLs of 2–3 `refit run` workers sharing one
# database, ~30% of emulator calls faulted, storage trouble; invariants checked after every kill and
# at the end; prints one figure line, exits 1 on any violation. Under 20 minutes on 2 cores.
# SOAK_ARGS="--kills 200 --seed 7 --workers 2 --minutes 8" to vary it.
SOAK_ARGS ?=
soak: setup
	$(SWIFT) build --product refit
	$(SWIFT) build --product refit-mlsim
	python3 scripts/soak.py --bin-dir "$$($(SWIFT) build --show-bin-path)" $(SOAK_ARGS)

# Speed and memory figures (wall time per operation, peak RSS) of the worker, store, slicing and
# definitions loading, from a release build; about a minute. BENCH_ARGS="--format json" for JSON.
# Then scripts/bench_chain.py: the retrain -> update chain of N hourly slices through refit-mlsim
# (real HTTP, `refit run`; BENCH_CHAIN_SIZES=720,2880,8760 by default, "none" skips it; each capped at
# BENCH_CHAIN_TIMEOUT=900 s) and data landing -> BES submit latency (BENCH_LATENCY_DROPS=50 drops,
# BENCH_LATENCY_SPACING_MS=200 apart; 0 drops skips it). `make bench-chain` runs only these.
# Between the two, scripts/bench_throughput.sh: claims and finishes per second with 1, 2 and 4
# worker processes on SQLite, then on PostgreSQL ($BENCH_POSTGRES, else a private server started and
# stopped by the script; skipped without the server binaries); BENCH_THROUGHPUT_WINDOWS=3000 per run,
# BENCH_THROUGHPUT_STORES=none skips it; about a minute. `make bench-throughput` runs only it.
# Last, scripts/bench_floor.py (`make bench-floor`, below): the floor under the chain's CPU per slice.
BENCH_ARGS ?=
export BENCH_FLOOR_SLICES BENCH_FLOOR_REPEAT BENCH_CHAIN_SIZES BENCH_CHAIN_TIMEOUT BENCH_LATENCY_DROPS BENCH_LATENCY_SPACING_MS BENCH_KEEP PEER_SIZES BENCH_VENV
export BENCH_THROUGHPUT_WINDOWS BENCH_THROUGHPUT_WORKERS BENCH_THROUGHPUT_REPEAT BENCH_THROUGHPUT_STORES
RELEASE_BIN = $$($(SWIFT) build $(RELEASE) --show-bin-path)

bench: setup release-flags
	$(SWIFT) build $(RELEASE) --product refit-bench
	$(SWIFT) build $(RELEASE) --product refit
	$(SWIFT) build $(RELEASE) --product refit-mlsim
	"$(RELEASE_BIN)/refit-bench" $(BENCH_ARGS)
	bash scripts/bench_throughput.sh "$(RELEASE_BIN)/refit-bench"
	python3 scripts/bench_chain.py --bin "$(RELEASE_BIN)"
	python3 scripts/bench_floor.py --bin "$(RELEASE_BIN)"

bench-throughput: setup release-flags
	$(SWIFT) build $(RELEASE) --product refit-bench
	bash scripts/bench_throughput.sh "$(RELEASE_BIN)/refit-bench"

bench-chain: setup release-flags
	$(SWIFT) build $(RELEASE) --product refit
	$(SWIFT) build $(RELEASE) --product refit-mlsim
	python3 scripts/bench_chain.py --bin "$(RELEASE_BIN)"

# The same chain in Luigi 3.8 (zero-work tasks, local scheduler, 4 workers; installed from PyPI into
# .venv-bench when missing) and in Refit, for PEER_SIZES=720 (comma-separated), in one run: both walls,
# refit/luigi, and the no-op re-run of each over the finished work.
# What the chain's SQL and HTTP cost in libsqlite3 and libcurl alone, called from C with nothing of
# refit around them (scripts/floor/, compiled here with cc): the floor under refit's CPU per slice.
# BENCH_FLOOR_SLICES=720, BENCH_FLOOR_REPEAT=3; about half a minute. Also the last part of `make bench`.
bench-floor: setup release-flags
	$(SWIFT) build $(RELEASE) --product refit
	$(SWIFT) build $(RELEASE) --product refit-mlsim
	python3 scripts/bench_floor.py --bin "$(RELEASE_BIN)"

bench-peers: setup release-flags
	$(SWIFT) build $(RELEASE) --product refit
	$(SWIFT) build $(RELEASE) --product refit-mlsim
	python3 scripts/bench_peers.py --bin "$(RELEASE_BIN)"

# The example pipeline end to end on a local refit-mlsim: 24 hourly slices whose relation drifts,
# retrained and deployed one by one; prints coefficients, evaluations, predictions and history.
demo: setup
	$(SWIFT) build
	python3 scripts/demo.py

# libFuzzer over the definitions reader (JSON, YAML, decoding, expressions, .NET date formats)
# for FUZZ_SECONDS from a corpus seeded with the fixtures; builds in .build-fuzz, so the normal
# build stays as it is. Not part of `make test`. A finding fails it and is kept in .build-fuzz/findings/.
FUZZ_SECONDS ?= 60
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) bash scripts/fuzz.sh

# Regenerates Sources/RefitStore/EmbeddedMigrations.swift from migrations/*.sql, and
# Sources/RefitPostgres/Migrations/EmbeddedPostgresMigrations.swift from migrations/postgres/*.sql.
migrations:
	bash scripts/embed-migrations.sh

# Regenerates scripts/refit.order and scripts/refit-hot.ld (release builds' function order, decision
# records 32 and 38) by running the worker, `refit tick` and the read commands under valgrind's
# callgrind; needs valgrind.
order-file: setup release-flags
	$(SWIFT) build $(RELEASE) --product refit
	$(SWIFT) build $(RELEASE) --product refit-mlsim
	python3 scripts/order_file.py --bin "$(RELEASE_BIN)"
	@# SwiftPM does not link again when only the order file or the script changed: the next build must.
	rm -f "$(RELEASE_BIN)/refit"

clean:
	rm -rf .build
