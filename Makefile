# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
HUBVENV := .venv-hub
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo demo-down setup test lint unit wheels molecule bench bench-stock
N ?= 30

demo:  ## Bring up (or re-provision) the local demo box at http://localhost:8080/jupyterhub/
	scripts/demo.sh up

demo-down:  ## Remove the local demo box
	scripts/demo.sh down

setup:  ## Install what the tests need (Docker engine, Chromium, venvs, base image)
	scripts/setup-host.sh --tests

test: setup lint unit wheels molecule  ## The whole default test suite

lint:
	yamllint --strict .
	ansible-lint --profile production
	python scripts/variables-doc.py --check

unit:
	cd hub && PYTHONDONTWRITEBYTECODE=1 ../$(HUBVENV)/bin/python -m pytest -p no:cacheprovider ../tests/unit

wheels:  ## Every pinned package has a wheel for amd64 and arm64 (asks PyPI)
	python scripts/check-wheels.py

# Each test run gets its own admin password unless one is given.
molecule:
	BOX_ADMIN_PASSWORD="$${BOX_ADMIN_PASSWORD:-$$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')}" \
	  molecule test --scenario-name default

bench:  ## Class start on the demo box: N students log in at once, then log in and start servers
	python bench/classroom_bench.py --url http://127.0.0.1:$${BOX_PORT:-8080} -n $(N)
	python bench/classroom_bench.py --url http://127.0.0.1:$${BOX_PORT:-8080} -n $(N) --servers --container classbox-demo

bench-stock:  ## The same, against a box set up as the usual guides do it (classbox-stock, port 8090)
	bench/stock/box.sh
	python bench/classroom_bench.py --url http://127.0.0.1:8090 -n $(N)
	python bench/classroom_bench.py --url http://127.0.0.1:8090 -n $(N) --servers --container classbox-stock
