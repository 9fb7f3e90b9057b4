# Everything a developer runs. `make test` on a fresh machine creates what it needs first.
# Lambda runs Python 3.12 (template.yaml); the local virtualenv uses the same version.
PYTHON_VERSION := 3.12
VENV := .venv
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
RUNTIME_VENV := .venv-runtime
BIN := $(VENV)/bin
API_PORT ?= 3000
DB_PORT ?= 8000
SAM_PORT ?= 3001
# The SAM CLI reports usage to AWS unless told not to: none of this project's commands does.
export SAM_CLI_TELEMETRY := 0
# Template parameters for `make run` on top of samconfig.toml's development stack, e.g.
# make run PARAMETERS='AllowedOrigins=http://localhost:8080'
PARAMETERS ?=
# The Django app's data to start from instead of the demo data, e.g. make run DJANGO_DB=db.sqlite3
# (its SQLite file, or `manage.py dumpdata auth.user assignment_orders` output)
DJANGO_DB ?=
RUN_OPTIONS = --api-port $(API_PORT) --db-port $(DB_PORT) --parameter-overrides "$(PARAMETERS)" $(if $(DJANGO_DB),--django-db "$(DJANGO_DB)")

.DEFAULT_GOAL := help
.PHONY: help install run reset test lint typecheck unit test-runtime validate build bench bench-scale openapi scan loadtest clean browser \
	sam-local sam-local-check-photo sam-local-image sam-local-test

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' -v api=$(API_PORT) -v db=$(DB_PORT) -v sam=$(SAM_PORT) \
		'{gsub(/\$$\(API_PORT\)/, api, $$2); gsub(/\$$\(DB_PORT\)/, db, $$2); gsub(/\$$\(SAM_PORT\)/, sam, $$2); \
		printf "  make %-21s %s\n", $$1, $$2}'

install: $(VENV)/.installed $(SAM_VENV)/.installed $(SCAN_VENV)/.installed $(RUNTIME_VENV)/.installed ## Create the virtualenvs (runtime+dev; the SAM CLI, the scanners and the Lambda runtime's botocore apart)

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt pyproject.toml
	@echo "==> Creating $(VENV) (Python $(PYTHON_VERSION)) with the runtime and dev dependencies"
	@python="$$(scripts/find-python $(PYTHON_VERSION))" && "$$python" -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

# The SAM CLI pins boto3, click and cfn-lint exactly, so it gets a virtualenv of its own;
# requirements-sam.txt is its complete lock with hashes (hence --no-deps).
$(SAM_VENV)/.installed: requirements-sam.txt
	@echo "==> Creating $(SAM_VENV) with the AWS SAM CLI"
	@python="$$(scripts/find-python $(PYTHON_VERSION))" && "$$python" -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements-sam.txt
	@touch $@

# checkov pins an older boto3: the scanners get a virtualenv of their own too.
$(SCAN_VENV)/.installed: requirements-scan.txt
	@echo "==> Creating $(SCAN_VENV) with checkov, check-jsonschema, zizmor and policy-sentry"
	@python="$$(scripts/find-python $(PYTHON_VERSION))" && "$$python" -m venv $(SCAN_VENV)
	@$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	@touch $@

# The functions import the Lambda runtime's botocore (exceptions, credentials), which is older than
# the dev pin: the AWS client's parity tests run against it too, in a virtualenv of its own.
$(RUNTIME_VENV)/.installed: requirements-runtime.txt
	@echo "==> Creating $(RUNTIME_VENV) with the Lambda Python 3.12 runtime's boto3/botocore"
	@python="$$(scripts/find-python $(PYTHON_VERSION))" && "$$python" -m venv $(RUNTIME_VENV)
	@$(RUNTIME_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-runtime.txt
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

run: $(VENV)/.installed $(DOCS_ASSETS) ## The API on http://127.0.0.1:$(API_PORT) with an embedded DynamoDB on port $(DB_PORT), demo data (or DJANGO_DB=db.sqlite3) kept between runs
	@$(BIN)/python -m shoplocal.run $(RUN_OPTIONS)

# Deleting the local data asks first (on a terminal); FORCE=1 does not ask (scripts).
reset: $(VENV)/.installed $(DOCS_ASSETS) ## As run, but from fresh demo data or DJANGO_DB's: deletes the local data (asks; FORCE=1 does not)
	@if [ "$(FORCE)" != 1 ]; then \
		if [ ! -t 0 ]; then echo "make reset deletes the local data ($${SHOP_DATA_DIR:-.local-data}): run it on a terminal to confirm, or with FORCE=1" >&2; exit 1; fi; \
		printf 'Delete the local data (%s) and start from fresh demo data? [y/N] ' "$${SHOP_DATA_DIR:-.local-data}"; read answer; \
		case "$$answer" in y|Y|yes|YES) ;; *) echo "Nothing deleted."; exit 1;; esac; \
	fi
	@$(BIN)/python -m shoplocal.run --reset $(RUN_OPTIONS)

test: install lint typecheck unit test-runtime ## Lint, type-check and run every test (template validation and sam build included)

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

# Only botocore, pytest and the layer there: no conftest (it needs moto), the layer on the path.
test-runtime: $(RUNTIME_VENV)/.installed ## The AWS client's parity tests against the Lambda Python 3.12 runtime's botocore
	@echo "==> pytest (the AWS client against the Lambda runtime's botocore)"
	@PYTHONPATH=layers/common $(RUNTIME_VENV)/bin/pytest --noconftest -p no:cacheprovider -o addopts= -q -W ignore::DeprecationWarning \
		tests/layer/aws/test_runtime_parity.py

validate: $(SAM_VENV)/.installed ## sam validate --lint
	@$(SAM_VENV)/bin/sam validate --lint

# sam build needs a python3.12 on PATH: the project's virtualenv provides it.
build: $(VENV)/.installed $(SAM_VENV)/.installed ## sam build (arm64 wheels, no Docker)
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(SAM_VENV)/bin/sam build

# `sam local start-api` in Docker, built for this machine's architecture (.aws-sam/sam-local/),
# against the store of a `make run` on DB_PORT, or of one started here (docs/local-development.md).
sam-local: $(VENV)/.installed $(SAM_VENV)/.installed $(DOCS_ASSETS) ## sam local start-api on port $(SAM_PORT) (Docker) against make run's store on port $(DB_PORT)
	@$(BIN)/python -m shoplocal.sam_local start --sam-port $(SAM_PORT) --api-port $(API_PORT) --db-port $(DB_PORT) --sam-args "$(SAM_ARGS)"

sam-local-check-photo: $(VENV)/.installed $(SAM_VENV)/.installed ## The photo checker run by SAM for an upload: make sam-local-check-photo KEY=products/...
	@test -n "$(KEY)" || { echo "usage: make sam-local-check-photo KEY=<the upload form's key field>" >&2; exit 2; }
	@$(BIN)/python -m shoplocal.sam_local check-photo --key "$(KEY)" --db-port $(DB_PORT) --sam-args "$(SAM_ARGS)"

sam-local-image: $(VENV)/.installed ## No image registry? A stand-in for AWS's Python 3.12 base image, built from this machine's Python
	@$(BIN)/python -m shoplocal.sam_local standin-image

# CI (.ci/run): the real sam local start-api, offline. As root it installs Debian's docker.io if
# missing and starts a daemon of its own (no iptables rules, no NAT), and builds a stand-in for
# AWS's base image from this machine's Python 3.12; it stops and removes all it started.
sam-local-test: $(VENV)/.installed $(SAM_VENV)/.installed $(DOCS_ASSETS) ## CI: the API through the real sam local start-api (installs and starts Docker as root)
	@$(BIN)/python -m shoplocal.sam_local test --sam-port $(SAM_PORT) --api-port $(API_PORT) --db-port $(DB_PORT)

bench: $(VENV)/.installed ## Cold-start import times, DynamoDB calls per endpoint, local server speed
	@$(BIN)/python bench/import_times.py
	@$(BIN)/python bench/endpoint_calls.py
	@$(BIN)/python bench/local_server.py

# The Django peer (gunicorn, seeded) serves PEER_URL from its SQLite file PEER_DB, which the
# benchmark grows as it grows the store; see docs/performance.md.
bench-scale: $(VENV)/.installed ## make run at a real shop's size (up to 50,000 products, 200,000 orders) beside the Django peer: make bench-scale PEER_URL=http://127.0.0.1:8001 PEER_DB=...
	@$(BIN)/python bench/local_scale.py --api-port $(API_PORT) --db-port $(DB_PORT) \
		$(if $(PEER_URL),--peer-url $(PEER_URL)) $(if $(PEER_DB),--peer-db $(PEER_DB)) $(ARGS)

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the handlers, and the events' schemas from it (tests check both are current)
	@$(BIN)/python -m shoplocal.openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json || { rm -f docs/openapi.json.tmp; exit 1; }
	@echo "wrote docs/openapi.json"
	@$(BIN)/python -m shoplocal.event_schemas

scan: $(SAM_VENV)/.installed $(SCAN_VENV)/.installed ## checkov on the templates, cfn-lint on pipeline/, the workflows against GitHub's schema and zizmor (make test runs them too)
	@BC_SKIP_MAPPING=TRUE $(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml -f pipeline/stage.yaml
	@$(SAM_VENV)/bin/cfn-lint pipeline/stage.yaml
	@$(SCAN_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	@$(SCAN_VENV)/bin/zizmor --offline --persona auditor .github/

loadtest: $(VENV)/.installed ## A bounded load test of a deployed stack: make loadtest URL=https://... (see docs/scaling.md)
	@$(BIN)/python bench/loadtest.py --api-url "$(URL)" $(ARGS)

clean: ## Remove virtualenvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) $(RUNTIME_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
