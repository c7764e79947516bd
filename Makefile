# Refit — the two commands a newcomer needs are `make test` and (with the worker) `make demo`.
SWIFT ?= swift

.PHONY: setup build test release migrations clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Builds everything and runs every test (unit, store, CLI end-to-end).
test: setup
	$(SWIFT) build
	$(SWIFT) test

# Regenerates Sources/RefitStore/EmbeddedMigrations.swift from migrations/*.sql.
migrations:
	bash scripts/embed-migrations.sh

clean:
	rm -rf .build
