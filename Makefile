# Beat: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := concerns referrals notifications surveys
PACKAGES := shared $(addprefix services/,$(SERVICES)) services/web
INSTALL_INPUTS := constraints.txt requirements-dev.txt $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: run test lint broker postgres test-tools bench bench-tools reliability docs clean-vhosts images image-tools

## run: install, make sure RabbitMQ runs, migrate SQLite databases, seed demo data, start all services
## (as the demo city, Riverton: deploy/local/demo-city.env, under any setting you give yourself)
run: $(VENV)/.installed broker
	$(BIN)/beat migrate
	$(BIN)/beat seed-demo
	deploy/local/with-demo-city.sh $(BIN)/beat run

## test: lint, then every test against real RabbitMQ and PostgreSQL
# pytest's exit status is the target's: a run that collects no tests (5) fails like any other.
test: $(VENV)/.installed broker postgres test-tools lint
	@if [ -n "$(PYTEST_ARGS)" ]; then $(BIN)/pytest $(PYTEST_ARGS); else $(BIN)/python tests/run_suite.py; fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

$(VENV)/.installed: $(INSTALL_INPUTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Beat needs Python 3.11 (apt-get install python3.11 python3.11-venv)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt pip setuptools
	$(BIN)/pip install --quiet -c constraints.txt -r requirements-dev.txt $(addprefix -e ,$(PACKAGES))
	touch $@

broker:
	@deploy/local/ensure-rabbitmq.sh

postgres:
	@deploy/local/ensure-postgres.sh

test-tools:
	@deploy/local/ensure-test-tools.sh

## bench: throughput and latency figures against the stack's own limits (not tests); writes bench/results.json
bench: $(VENV)/.installed broker postgres bench-tools
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-tools: $(VENV)/.installed
	@deploy/local/ensure-bench-tools.sh

## reliability: the full fault-injection run (all services as processes; restarts, kills, load); prints a table
reliability: $(VENV)/.installed broker postgres test-tools
	$(BIN)/python tests/reliability/run.py

## docs: regenerate the published contracts (AsyncAPI, OpenAPI and their reference pages)
docs: $(VENV)/.installed
	$(BIN)/beat docs

## images: build the five service images without Docker (buildah; base: BASE_IMAGE, or a local Debian
## one made with mmdebstrap) and smoke-test each with podman; IMAGE_PREFIX and IMAGE_TAG name them
images: broker image-tools
	$(PYTHON) deploy/docker/images.py $(if $(BASE_IMAGE),--base $(BASE_IMAGE)) \
		$(if $(IMAGE_PREFIX),--prefix $(IMAGE_PREFIX)) $(if $(IMAGE_TAG),--tag $(IMAGE_TAG))

image-tools:
	@deploy/local/ensure-image-tools.sh

clean-vhosts:
	@deploy/local/clean-test-vhosts.sh
