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

.PHONY: help setup demo build build-debug deploy test test-unit test-data lint lint-infra fmt check-postings clean

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

FUNCTIONS := orders payments customers products retry export-sie
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

test-data: ## sample orders add up as commercetools computes; orders and events/ are up to date
	python3 tools/build_sample_orders.py --check
	python3 tools/verify_orders.py tests/data/orders/*.json
	python3 tools/make_events.py --check

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

lint-infra: setup ## cfn-lint on the SAM template (zero errors, zero warnings)
	$(VENV)/bin/cfn-lint infra/template.yaml

fmt: ## format the code
	cargo fmt --all

clean: ## remove build output and the local venv
	cargo clean
	rm -rf $(VENV) out
