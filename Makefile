# Open Badges server: build, run, test and lint.
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
PACKAGE := openbadges-server

# Database settings passed through to `run` and `migrate`, from the make
# command line (`make migrate DB_TYPE=sqlite SQLITE_FILE=...`) or from the
# environment. Only the ones that are set are exported: exporting an unset
# variable would hand the server an empty value instead of its default.
DB_VARS := DB_TYPE DATABASE_URL \
	PG_HOST PG_PORT PG_USER PG_PASSWORD PG_DATABASE PG_POOL_MAX PG_POOL_IDLE_TIMEOUT \
	SQLITE_FILE SQLITE_BUSY_TIMEOUT SQLITE_SYNC_MODE SQLITE_CACHE_SIZE \
	DB_QUERY_LOGGING LOG_LEVEL CONFIG_FILE HOST PORT BASE_URL
DB_VARS_SET := $(foreach var,$(DB_VARS),$(if $(filter undefined,$(origin $(var))),,$(var)))
ifneq ($(strip $(DB_VARS_SET)),)
export $(DB_VARS_SET)
endif

.PHONY: help deps build run migrate test bench lint fmt check clean

help: ## Show this help
	@echo "Usage: make TARGET [VAR=value ...]"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-8s %s\n", $$1, $$2}'
	@echo
	@echo "Examples:"
	@echo "  make run                                   # SQLite in ./openbadges.sqlite, http://localhost:3000"
	@echo "  make migrate DB_TYPE=postgresql DATABASE_URL=postgres://user:pass@host:5432/openbadges"
	@echo "  make migrate DB_TYPE=sqlite SQLITE_FILE=/path/to/openbadges.sqlite"

deps: ## Install missing Debian packages (libpq-dev, pkg-config, postgresql, util-linux, chromium, podman, mmdebstrap, nodejs, npm, python3-venv)
	@bash scripts/install-deps.sh

build: deps ## Build the release binary (target/release/openbadges-server)
	$(CARGO) build --release -p $(PACKAGE)

run: deps ## Start the server (default: SQLite at ./openbadges.sqlite, port 3000)
	$(CARGO) run --release -p $(PACKAGE)

migrate: deps ## Apply pending migrations: make migrate DB_TYPE=postgresql DATABASE_URL=... | DB_TYPE=sqlite SQLITE_FILE=...
	$(CARGO) run --release -p $(PACKAGE) -- migrate

test: deps ## Run the whole test suite (uses PostgreSQL at TEST_DATABASE_URL or starts a throwaway one)
	# The end-to-end tests spawn the real binary, which cargo builds only for its own package.
	$(CARGO) build -p $(PACKAGE)
	bash scripts/with-postgres.sh $(CARGO) test --workspace
	# The domain embedded without the server: issue, sign, verify and revoke, in memory and in SQLite.
	$(CARGO) run -q -p openbadges-embed-example

bench: deps ## Measure throughput of the release binary on both backends (wrk; docs/performance.md)
	bash scripts/bench.sh

lint: deps ## Check formatting and run clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

check: deps ## Type-check every crate and test
	$(CARGO) check --workspace --all-targets

clean: ## Remove build artefacts and leftover test clusters
	$(CARGO) clean
	rm -rf $(or $(CARGO_TARGET_DIR),target)/pg-test
