# plexica-infra: `make setup`, then `make up` (local stack), `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STACK ?= local
STATE := $(ROOT)/.state
# The local stack's passphrase is public on purpose: local state holds only local,
# throwaway secrets. Set PULUMI_CONFIG_PASSPHRASE yourself for dev and prod.
LOCAL_PASSPHRASE := plexica-local-only
export PATH := $(ROOT)/.tools/bin:$(VENV)/bin:$(PATH)
export PULUMI_SKIP_UPDATE_CHECK := true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION := true
export PULUMI_HOME := $(STATE)/pulumi-home
export PULUMI_BACKEND_URL := file://$(STATE)/backend

-include tools/toolchain.mk

.PHONY: help prereqs setup venv checkov toolchain test lint typecheck unit validate schema up down preview preview-prod bench lock clean

help: ## List targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: prereqs venv toolchain checkov ## Create .venv with pinned dependencies and build the Pulumi toolchain into .tools/bin

checkov: ## checkov (Kubernetes security scanner) in its own .venv-checkov: it pins its own dependencies
	bash tests/k8s/setup_checkov.sh

prereqs: ## Check what make setup needs from the machine: Python >= 3.11 with venv, Go >= 1.24
	@$(PYTHON) -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else "make setup needs Python >= 3.11 (PYTHON=$(PYTHON))")' \
	  || { echo "make setup: $(PYTHON) with the venv module is required (Debian: apt-get install python3-venv)"; exit 1; }
	@command -v go >/dev/null 2>&1 || test -x /usr/local/go/bin/go \
	  || { echo "make setup: Go >= 1.24 is required to build the Pulumi toolchain and the plugin image"; exit 1; }

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

lint: venv ## ruff on the package, tests and benchmarks
	$(VENV)/bin/ruff check plexica_infra tests bench __main__.py
	$(VENV)/bin/ruff format --check plexica_infra tests bench __main__.py

typecheck: venv ## mypy --strict on the package
	$(VENV)/bin/mypy plexica_infra

test: lint typecheck ## The whole suite: lint, mypy --strict, unit, provider, emulator and end-to-end tests
	$(VENV)/bin/pytest

validate: venv ## Validate every plugin manifest (add STACK=prod for a stack's policy)
	$(PY) -m plexica_infra validate plugins --stack $(STACK)

schema: venv ## Regenerate plexica_infra/schema/plugin.schema.json from the model
	$(PY) -m plexica_infra schema

up: setup ## Deploy every plugin to the local stack (Docker engine + Core API emulator on this machine)
	PULUMI_CONFIG_PASSPHRASE=$(LOCAL_PASSPHRASE) $(PY) -m plexica_infra.localenv up

down: ## Destroy the local stack and stop everything `make up` started
	PULUMI_CONFIG_PASSPHRASE=$(LOCAL_PASSPHRASE) $(PY) -m plexica_infra.localenv down

preview: setup ## pulumi preview --diff of STACK (default local; other stacks need PULUMI_CONFIG_PASSPHRASE)
	$(PY) -m plexica_infra.localenv preview --stack $(STACK)

preview-prod: setup ## Cluster-less preview of the prod stack (renders Kubernetes YAML to .state/render/prod)
	$(PY) -m plexica_infra.localenv preview-prod

bench: venv ## Run the benchmarks under bench/ (smallest sizes; bench/bench_compare.py --help for more)
	@command -v docker-compose >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 docker-compose
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock: ## Re-pin requirements.lock from requirements.in (needs a registry)
	rm -rf $(STATE)/lockenv && $(PYTHON) -m venv $(STATE)/lockenv
	$(STATE)/lockenv/bin/pip install --quiet -r requirements.in
	$(STATE)/lockenv/bin/pip freeze --exclude-editable > requirements.lock

clean: ## Remove build products (not .state: run `make down` first)
	rm -rf .venv .venv-checkov .tools .pytest_cache .mypy_cache .ruff_cache
