# Everything a developer runs. `make test` on a fresh machine creates what it needs first.
# Lambda runs Python 3.12 (template.yaml); the local virtualenv uses the same version.
PYTHON_VERSION := 3.12
VENV := .venv
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
BIN := $(VENV)/bin
API_PORT ?= 3000
DB_PORT ?= 8000
# Template parameters for `make run` on top of samconfig.toml's development stack, e.g.
# make run PARAMETERS='AllowedOrigins=http://localhost:8080'
PARAMETERS ?=

.DEFAULT_GOAL := help
.PHONY: help install run reset test lint typecheck unit validate build bench bench-scale openapi scan loadtest clean browser

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' -v api=$(API_PORT) -v db=$(DB_PORT) \
		'{gsub(/\$$\(API_PORT\)/, api, $$2); gsub(/\$$\(DB_PORT\)/, db, $$2); printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV)/.installed $(SAM_VENV)/.installed $(SCAN_VENV)/.installed ## Create the virtualenvs (runtime+dev; the SAM CLI and the scanners apart)

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt pyproject.toml
	@echo "==> Creating $(VENV) (Python $(PYTHON_VERSION)) with the runtime and dev dependencies"
	@python="$$(scripts/find-python $(PYTHON_VERSION))" && "$$python" -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

# The SAM CLI pins boto3, click and cfn-lint exactly, so it gets a virtualenv of its own.
$(SAM_VENV)/.installed: requirements-sam.txt
	@echo "==> Creating $(SAM_VENV) with the AWS SAM CLI"
	@python="$$(scripts/find-python $(PYTHON_VERSION))" && "$$python" -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@touch $@

# checkov pins an older boto3: the scanners get a virtualenv of their own too.
$(SCAN_VENV)/.installed: requirements-scan.txt
	@echo "==> Creating $(SCAN_VENV) with checkov and check-jsonschema"
	@python="$$(scripts/find-python $(PYTHON_VERSION))" && "$$python" -m venv $(SCAN_VENV)
	@$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	@touch $@

# GET /api/docs serves functions/docs/assets/ (Swagger UI from a pinned package, docs/openapi.json):
# rebuilt here for the working tree whenever its sources change; `sam build` assembles its own.
DOCS_ASSETS := functions/docs/assets/index.html.gz
$(DOCS_ASSETS): $(VENV)/.installed docs/openapi.json $(addprefix functions/docs/,index.html docs.js Makefile requirements.txt)
	@$(MAKE) --no-print-directory -f functions/docs/Makefile assets PYTHON=$(BIN)/python

# The docs page's test drives a real headless Chromium (or Chrome, as on GitHub's runners):
# Debian's package, installed when missing where that is possible (CI runs as root).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "==> Installing Chromium (apt) for the docs page's browser test"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else echo "The docs page's browser test needs Chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

run: $(VENV)/.installed $(DOCS_ASSETS) ## The API on http://127.0.0.1:$(API_PORT) with an embedded DynamoDB on port $(DB_PORT), demo data kept between runs
	@$(BIN)/python -m shoplocal.run --api-port $(API_PORT) --db-port $(DB_PORT) --parameter-overrides "$(PARAMETERS)"

reset: $(VENV)/.installed $(DOCS_ASSETS) ## As run, but from fresh demo data (forgets the local data)
	@$(BIN)/python -m shoplocal.run --reset --api-port $(API_PORT) --db-port $(DB_PORT) --parameter-overrides "$(PARAMETERS)"

test: install lint typecheck unit ## Lint, type-check and run every test (template validation and sam build included)

lint: $(VENV)/.installed ## ruff (lint and format check)
	@echo "==> ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed ## mypy --strict
	@echo "==> mypy"
	@$(BIN)/mypy layers/common functions shoplocal shopctl tests bench

unit: install $(DOCS_ASSETS) browser ## pytest only
	@echo "==> pytest"
	@# Workers in processes of their own (each its own moto, its own ports): half the time on 2 cores.
	@$(BIN)/pytest --numprocesses=auto --maxprocesses=4

validate: $(SAM_VENV)/.installed ## sam validate --lint
	@$(SAM_VENV)/bin/sam validate --lint

# sam build needs a python3.12 on PATH: the project's virtualenv provides it.
build: $(VENV)/.installed $(SAM_VENV)/.installed ## sam build (arm64 wheels, no Docker)
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(SAM_VENV)/bin/sam build

bench: $(VENV)/.installed ## Cold-start import times, DynamoDB calls per endpoint, local server speed
	@$(BIN)/python bench/import_times.py
	@$(BIN)/python bench/endpoint_calls.py
	@$(BIN)/python bench/local_server.py

# The Django peer (gunicorn, seeded) serves PEER_URL from its SQLite file PEER_DB, which the
# benchmark grows as it grows the store; see docs/performance.md.
bench-scale: $(VENV)/.installed ## make run at a real shop's size (up to 50,000 products, 200,000 orders) beside the Django peer: make bench-scale PEER_URL=http://127.0.0.1:8001 PEER_DB=...
	@$(BIN)/python bench/local_scale.py --api-port $(API_PORT) --db-port $(DB_PORT) \
		$(if $(PEER_URL),--peer-url $(PEER_URL)) $(if $(PEER_DB),--peer-db $(PEER_DB)) $(ARGS)

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the handlers (a test checks it is current)
	@$(BIN)/python -m shoplocal.openapi > docs/openapi.json
	@echo "wrote docs/openapi.json"

scan: $(SAM_VENV)/.installed $(SCAN_VENV)/.installed ## checkov on the templates, cfn-lint on pipeline/, the workflows against GitHub's schema (make test runs them too)
	@BC_SKIP_MAPPING=TRUE $(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml -f pipeline/stage.yaml
	@$(SAM_VENV)/bin/cfn-lint pipeline/stage.yaml
	@$(SCAN_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

loadtest: $(VENV)/.installed ## A bounded load test of a deployed stack: make loadtest URL=https://... (see docs/scaling.md)
	@$(BIN)/python bench/loadtest.py --api-url "$(URL)" $(ARGS)

clean: ## Remove virtualenvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
