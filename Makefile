# ctvisma — every developer and CI entry point. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A persistent target dir outside the clone speeds up rebuilds; a cold build works the same.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ctvisma-target
export CARGO_TERM_COLOR ?= never
VENV := .venv
PY := $(VENV)/bin/python
CTVISMA := $(CARGO_TARGET_DIR)/debug/ctvisma
RULES ?= config/rules.toml
SHARED := ../shared

.PHONY: reliability help setup demo build build-debug deploy test test-unit test-data lint lint-infra fmt check-postings clean bench bench-pipeline bench-stock deny fuzz

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## install the dev tools (moto, cfn-lint, cargo-lambda) into .venv
$(VENV)/.installed: requirements-dev.txt
	@command -v cargo >/dev/null || { echo "cargo is required (rustup.rs)"; exit 1; }
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: ## the main job on this machine: events/ through the Lambdas' handler, ledger and SIE in out/
	cargo run --quiet -p ctvisma-cli -- run --rules $(RULES) --target sie --out out events/

FUNCTIONS := orders payments customers products retry export-sie stock
# arm64 (Graviton) by default, as in the template; x86_64 builds without an extra rustup target.
ARCH ?= arm64
LAMBDA_ARCH := $(if $(filter x86_64,$(ARCH)),--x86-64,--arm64)

build: setup ## build every Lambda function with cargo-lambda (release; ARCH=arm64|x86_64)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release $(LAMBDA_ARCH) $(foreach f,$(FUNCTIONS),-p $(f))
	@for f in $(FUNCTIONS); do ls -l "$${CARGO_TARGET_DIR:-target}/lambda/$$f/bootstrap"; done

build-debug: ## build every crate for this machine (what the tests use)
	cargo build --workspace --all-targets

deploy: ## how to deploy: sam build + sam deploy --guided (docs/runbook.md)
	@echo "1. make build                      (cargo-lambda, ARCH=$(ARCH))"
	@echo "2. sam build --template-file infra/template.yaml --beta-features   (CARGO_TARGET_DIR unset)"
	@echo "3. sam deploy --guided             (stack name, region, AlarmEmail, Architecture)"
	@echo "then create the commercetools Subscriptions on the queue ARNs in the stack outputs (docs/runbook.md)"

invoke-%: ## run one function locally on an event: make invoke-orders EVENT=events/order-created-se-sek-returns.json
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda invoke $* --data-file $(EVENT)

test: setup test-data lint-infra test-unit check-postings ## run every test (what CI runs)

test-unit: ## cargo tests: core unit + property tests, fixture corpus, CLI
	cargo test --workspace --no-fail-fast

reliability: ## the fault-injection run (1 000 deliveries on moto + fakes) and the bad-input corpus (docs/RELIABILITY.md)
	cargo test -p ctvisma-integration-tests --test fault_injection -- --nocapture
	cargo test -p ctvisma-core --test bad_input
	cargo test -p ctvisma-handler --test handler bad_input

test-data: ## sample orders add up as commercetools computes; orders and events/ are up to date
	python3 tools/build_sample_orders.py --check
	python3 tools/verify_orders.py tests/data/orders/*.json
	python3 tools/make_events.py --check
	python3 tools/make_bad_input.py --check

# Fixture orders the example rules accept; the others are refused on purpose (docs/posting-contract.md).
FIXTURE_ORDERS := $(addprefix $(SHARED)/fixtures/commercetools/resources/,order-2015-legacy-tax-portion-without-name.json \
	order-legacy-money-no-type-de-19.json order-platform-tax-usd-return-info-discount-code-paid-shipped.json \
	order-tax-disabled-usd-three-line-items-discounted.json)

check-postings: ## the shared posting checker on every sample order
	cargo build --quiet -p ctvisma-cli
	python3 $(SHARED)/tools/check_postings.py --cmd $(CTVISMA) --rules $(RULES) \
		tests/data/orders/*.json $(FIXTURE_ORDERS)

lint: setup lint-infra ## formatting, clippy and cfn-lint; warnings are errors
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

lint-infra: setup ## cfn-lint, then least privilege, encryption and TLS-only (tools/check_template.py)
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(VENV)/bin/python tools/check_template.py infra/template.yaml
	$(VENV)/bin/python tools/check_template.py --self-test infra/template.yaml

fmt: ## format the code
	cargo fmt --all

# Dependency checks with cargo-deny (deny.toml, docs/SECURITY.md#dependency-checks). cargo-deny is
# installed into .tools (git-ignored); CARGO_TARGET_DIR is unset for the install so its build does
# not land in the shared target dir. Advisories need the RustSec database from GitHub: when it
# cannot be fetched, a local copy from an earlier fetch is used (its date is printed), else they
# are skipped with a message; licences, bans and sources work offline.
TOOLS := $(CURDIR)/.tools
CARGO_DENY := $(TOOLS)/bin/cargo-deny
ADVISORY_DBS ?= $(HOME)/.cargo/advisory-dbs

$(CARGO_DENY):
	env -u CARGO_TARGET_DIR cargo install --locked cargo-deny --root $(TOOLS)

deny: $(CARGO_DENY) ## dependency checks: advisories (when the database is reachable), licenses, bans, sources
	@export PATH="$(TOOLS)/bin:$$PATH"; status=0; \
	if cargo deny fetch db >/dev/null 2>&1; then \
		cargo deny check advisories || status=1; \
	elif ls -d $(ADVISORY_DBS)/advisory-db-* >/dev/null 2>&1; then \
		echo "advisories: database unreachable; checking the local copy of $$(git -C "$$(ls -d $(ADVISORY_DBS)/advisory-db-* | head -1)" log -1 --format=%cs)"; \
		cargo deny --offline check advisories || status=1; \
	else \
		echo "advisories: skipped (advisory database unreachable, no local copy)"; \
	fi; \
	cargo deny check licenses bans sources || status=1; \
	exit $$status

# Fuzzing with cargo-fuzz (fuzz/, docs/RELIABILITY.md#fuzzing): any bytes through parse → book →
# postings; a panic, a transient error on bad input or an unbalanced posting is a crash, saved
# under fuzz/artifacts/. Bounded by FUZZ_SECONDS; not part of `make test` (which runs the same
# property on every corpus file). libFuzzer needs nightly flags: RUSTC_BOOTSTRAP lets the stable
# toolchain accept them, and without a sanitizer no nightly-only runtime is needed.
CARGO_FUZZ := $(TOOLS)/bin/cargo-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SEEDS := tests/data/orders tests/data/bad-input events

$(CARGO_FUZZ):
	env -u CARGO_TARGET_DIR cargo install --locked cargo-fuzz --root $(TOOLS)

fuzz: $(CARGO_FUZZ) ## fuzz parsing + mapping for FUZZ_SECONDS (60) from the sample inputs
	mkdir -p fuzz/corpus/parse_and_map
	RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ) fuzz run --sanitizer none --target-dir $(CARGO_TARGET_DIR)/fuzz \
		parse_and_map fuzz/corpus/parse_and_map $(FUZZ_SEEDS) \
		-- -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1

# Benchmarks: not part of `make test`. Each bench-* target writes its figures under docs/bench/;
# `bench` runs them all (add new ones as prerequisites). What they mean: docs/BENCHMARKS.md.
BENCH_FIGURES ?= docs/bench/figures.txt

bench: bench-pipeline bench-stock ## every benchmark, figures under docs/bench/ (docs/BENCHMARKS.md)

bench-pipeline: ## mapping vs parsing, handler cost, `ctvisma run` msgs/s, cold start, sizes, Lambda cost
	cargo build --release -p ctvisma-cli -p ctvisma-bench
	$(CARGO_TARGET_DIR)/release/ctvisma-bench --cli $(CARGO_TARGET_DIR)/release/ctvisma --out $(BENCH_FIGURES)

bench-stock: ## stock sync of 10 000 SKUs against the fakes: time, requests, peak RSS
	cargo bench -p ctvisma-stock --bench sync_10k -- --out $(CURDIR)/docs/bench/stock-sync.txt

clean: ## remove build output and the local venv
	cargo clean
	rm -rf $(VENV) out
