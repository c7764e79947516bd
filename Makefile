# Refit — the two commands a newcomer needs are `make test` and (with the worker) `make demo`.
SWIFT ?= swift

.PHONY: setup build test soak bench demo release migrations clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

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
BENCH_ARGS ?=
bench: setup
	$(SWIFT) build -c release --product refit-bench
	"$$($(SWIFT) build -c release --show-bin-path)/refit-bench" $(BENCH_ARGS)

# The example pipeline end to end on a local refit-mlsim: 24 hourly slices whose relation drifts,
# retrained and deployed one by one; prints coefficients, evaluations, predictions and history.
demo: setup
	$(SWIFT) build
	python3 scripts/demo.py

# Regenerates Sources/RefitStore/EmbeddedMigrations.swift from migrations/*.sql.
migrations:
	bash scripts/embed-migrations.sh

clean:
	rm -rf .build
