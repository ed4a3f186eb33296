# plexica-infra: `make setup`, then `make up` (local stack), `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
PYTHON ?= python3
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
STACK ?= local
STATE := $(ROOT)/.state

# The Pulumi environment, defined once in tools/pulumi.env (tools/env.sh and
# plexica_infra.localenv.toolchain read the same file).
PLEXICA_ROOT := $(ROOT)
include tools/pulumi.env
export PLEXICA_ROOT $(shell sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' tools/pulumi.env)
export PATH := $(PLEXICA_TOOLS_BIN):$(VENV)/bin:$(PATH)

-include tools/toolchain.mk

# Go version the tools modules need: the highest `go` line of tools/*/go.mod.
GO_MIN := $(shell sed -n 's/^go \([0-9.]*\)$$/\1/p' tools/*/go.mod | sort -V | tail -1)
# Go unit tests (offline: the pinned modules come from the module cache).
GO_TEST_MODULES := tools/pulumi-resource-docker tools/pulumi-language-python
GO_TEST_ENV := CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local
# Tests that need no Docker engine, no Pulumi engine run and no cluster (markers: pyproject.toml).
UNIT_MARKERS := not e2e and not docker and not engine and not cluster and not scanner and not processes
PY_SOURCES := plexica_infra tests bench __main__.py

.PHONY: help prereqs setup venv venv-runtime docker-engine node checkov toolchain test lint typecheck gotest unit \
	validate schema up down preview preview-prod pr-preview report report-fixtures policy-analyze bench lock clean

help: ## List targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: prereqs venv toolchain docker-engine node checkov ## Everything `make up` and `make test` need: .venv, the Pulumi toolchain (and the local cluster's binaries), a Docker engine, the cluster node's packages, checkov

node: ## Debian packages the local Kubernetes cluster's node needs (containerd, runc, CNI plugins), if missing
	bash tools/kube/setup-node.sh

checkov: ## checkov (Kubernetes security scanner, for tests) in its own .venv-checkov: it pins its own dependencies
	bash tests/k8s/setup_checkov.sh

docker-engine: ## Install Debian's docker.io when no dockerd is installed (machine set-up, needs root and apt)
	bash tools/install-docker.sh

prereqs: ## Check what make setup needs from the machine: Python >= 3.11 with venv, Go >= the tools' go.mod
	@$(PYTHON) -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else "make setup needs Python >= 3.11 (PYTHON=$(PYTHON))")' \
	  || { echo "make setup: $(PYTHON) with the venv module is required (Debian: apt-get install python3-venv)"; exit 1; }
	@test -x "$(GO)" || { echo "make setup: Go >= $(GO_MIN) is required to build the Pulumi toolchain and the plugin image"; exit 1; }
	@have="$$($(GO) env GOVERSION | sed 's/^go//')"; \
	  [[ "$$(printf '%s\n%s\n' "$(GO_MIN)" "$$have" | sort -V | head -1)" == "$(GO_MIN)" ]] \
	  || { echo "make setup: Go $$have is too old: tools/*/go.mod need Go >= $(GO_MIN)"; exit 1; }

venv: $(VENV)/.installed ## .venv with the runtime and the test/lint packages (requirements-dev.lock)

venv-runtime: $(VENV)/.runtime ## .venv with the runtime packages only (requirements.lock): what `make up` needs

$(VENV)/.runtime: requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(VENV)/.installed: requirements-dev.lock $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@touch $@

lint: venv ## ruff on the package, tests and benchmarks
	$(VENV)/bin/ruff check $(PY_SOURCES) policy
	$(VENV)/bin/ruff format --check $(PY_SOURCES) policy

typecheck: venv ## mypy --strict on the package, tests and benchmarks
	$(VENV)/bin/mypy $(PY_SOURCES)

gotest: ## go test -cover of our Go stand-ins (offline, from the module cache)
	@for m in $(GO_TEST_MODULES); do (cd $$m && $(GO_TEST_ENV) $(GO) test -count=1 -timeout 300s -cover ./...) || exit 1; done

unit: venv ## Fast tests: everything but the e2e, Docker, Pulumi-engine, cluster, checkov and emulator/plugin-process tests
	$(VENV)/bin/pytest -q -m "$(UNIT_MARKERS)"

test: lint typecheck gotest ## The whole suite: lint, mypy --strict, go test, unit, provider, emulator and end-to-end tests
	$(VENV)/bin/pytest

validate: venv-runtime ## Validate every plugin manifest (add STACK=prod for a stack's policy)
	$(PY) -m plexica_infra validate plugins --stack $(STACK)

schema: venv-runtime ## Regenerate plexica_infra/schema/plugin.schema.json from the model
	$(PY) -m plexica_infra schema

up: venv-runtime toolchain docker-engine node ## Deploy every plugin: STACK=local (Docker, default) or STACK=kube (the local Kubernetes cluster)
	$(PY) -m plexica_infra.localenv up --stack $(STACK)

down: venv-runtime ## Destroy STACK (local or kube) and stop everything `make up` started
	$(PY) -m plexica_infra.localenv down --stack $(STACK)

preview: venv-runtime toolchain ## pulumi preview --diff of STACK (default local; other stacks need PULUMI_CONFIG_PASSPHRASE)
	$(PY) -m plexica_infra.localenv preview --stack $(STACK)

preview-prod: venv-runtime toolchain ## Cluster-less preview of the prod stack (renders Kubernetes YAML to .state/render/prod)
	$(PY) -m plexica_infra.localenv preview-prod

pr-preview: venv-runtime toolchain ## A pull request's prod changes against BASE_DIR (a checkout of the base), with the policy pack
	$(PY) -m plexica_infra.localenv pr-preview --out $(STATE)/pr $(if $(BASE_DIR),--base-dir $(BASE_DIR))

report: venv-runtime ## Markdown summary of $(STATE)/pr (validate, preview, policy results) for a pull request
	$(PY) -m plexica_infra report $(STATE)/pr

report-fixtures: venv toolchain ## Re-record tests/report/fixtures from real engine runs
	$(PY) tests/report/record_fixtures.py

policy-analyze: venv-runtime toolchain ## Check a stack's existing state against the policy pack (pulumi policy analyze)
	$(TOOLCHAIN_SH) pulumi policy analyze --stack $(STACK) \
	  $$($(PY) -c 'import sys; from plexica_infra.localenv.stack import policy_pack_args; print(*policy_pack_args(sys.argv[1]))' $(STACK))

bench: venv ## Run the benchmarks under bench/ (smallest sizes; bench/bench_compare.py --help for more)
	@command -v docker-compose >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 docker-compose
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock: ## Re-pin requirements.lock and requirements-dev.lock from the .in files (needs a registry)
	rm -rf $(STATE)/lockenv && $(PYTHON) -m venv $(STATE)/lockenv
	$(STATE)/lockenv/bin/pip install --quiet -r requirements.in
	{ echo '# Runtime pins, generated by `make lock` from requirements.in: do not edit by hand.'; \
	  $(STATE)/lockenv/bin/pip freeze --exclude-editable; } > requirements.lock
	$(STATE)/lockenv/bin/pip install --quiet -c requirements.lock -r requirements-dev.in
	{ echo '# Runtime + test/lint pins, generated by `make lock` from requirements-dev.in: do not edit by hand.'; \
	  $(STATE)/lockenv/bin/pip freeze --exclude-editable; } > requirements-dev.lock

clean: ## Remove build products (not .state: run `make down` first)
	rm -rf .venv .venv-checkov .tools .pytest_cache .mypy_cache .ruff_cache
