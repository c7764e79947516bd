# Refit — the two commands a newcomer needs are `make test` and (with the worker) `make demo`.
SWIFT ?= swift

.PHONY: setup build test bench demo release migrations clean fuzz

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

# libFuzzer over the definitions reader (JSON, YAML, decoding, expressions, .NET date formats)
# for FUZZ_SECONDS from a corpus seeded with the fixtures; builds in .build-fuzz, so the normal
# build stays as it is. Not part of `make test`. A finding fails it and is kept in .build-fuzz/findings/.
FUZZ_SECONDS ?= 60
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) bash scripts/fuzz.sh

# Regenerates Sources/RefitStore/EmbeddedMigrations.swift from migrations/*.sql.
migrations:
	bash scripts/embed-migrations.sh

clean:
	rm -rf .build
