# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
HUBVENV := .venv-hub
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: demo demo-down control setup check-fresh-setup check-control test test-pi lint unit labextension wheels pins molecule offline upgrade offline-and-upgrade pi pi-trixie bench bench-stock bench-floor bench-offline
N ?= 30

demo:  ## Bring up (or re-provision) the local demo box at http://localhost:8080/jupyterhub/
	scripts/demo.sh up

demo-down:  ## Remove the local demo box
	scripts/demo.sh down

control:  ## The teacher's laptop (Debian, Ubuntu or macOS): only .venv with Ansible, from requirements-control.txt
	scripts/setup-control.sh

setup:  ## Install what the tests need (Docker engine, Chromium, venvs, base images)
	scripts/timed.sh setup scripts/setup-host.sh --tests

check-fresh-setup:  ## setup-host.sh installs every program of every path on a Debian 12 with nothing installed
	scripts/timed.sh 'fresh setup check' scripts/check-fresh-setup.sh

check-control:  ## scripts/setup-control.sh makes a working controller on trixie and refuses Debian 11's Python 3.9
	scripts/timed.sh 'control setup check' scripts/check-control-setup.sh

test: setup check-fresh-setup check-control lint unit wheels molecule offline-and-upgrade  ## The whole default test suite

lint:
	yamllint --strict .
	ansible-lint --profile production
	python -m classbox.variables_doc --check
	python -m classbox.architecture --check
	python -m classbox.labextension_check
	ruff check .
	ruff format --check .
	python -m classbox.settings

unit:
	PYTHONDONTWRITEBYTECODE=1 $(HUBVENV)/bin/python -m pytest -p no:cacheprovider tests/unit

labextension:  ## Build JupyterLab's Share a copy (classbox/labextension) into its committed built/ folder (needs Node.js, npm)
	scripts/build-labextension.sh

wheels:  ## Every lock has a wheel of each pin for its release's Python on amd64 and arm64 (asks PyPI)
	python -m classbox.wheels

pins:  ## Resolve roles/jupyterhub/files/requirements.in into one hashed lock per release's Python (needs PyPI)
	python -m classbox.wheels pins $(UPGRADE)

# Each test run gets its own admin password unless one is given.
TEST_ADMIN_PASSWORD = $${BOX_ADMIN_PASSWORD:-$$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')}

molecule:  ## The default scenario: a Debian 13 (trixie) box, every check
	BOX_ADMIN_PASSWORD="$(TEST_ADMIN_PASSWORD)" \
	  scripts/timed.sh 'scenario default' molecule test --scenario-name default

# Two scenarios at once, where each mostly runs one process at a time (pip,
# apt, a playbook; pip under qemu) and so leaves the other core free: this
# keeps CI within its 75 minutes. Each one's log comes whole when it ends.
TWO_AT_ONCE = $(MAKE) --no-print-directory --output-sync=target -j2

test-pi:  ## The Raspberry Pi's arm64 under qemu emulation: a whole box on bookworm, the hub's venv on trixie (builds their images the first time)
	scripts/timed.sh 'setup --pi' scripts/setup-host.sh --tests --pi
	$(TWO_AT_ONCE) pi pi-trixie

pi:  ## A whole Debian 12 (bookworm) arm64 box under qemu, its smoke checks
	BOX_IMAGE=classbox/debian-systemd:bookworm-arm64 \
	BOX_ADMIN_PASSWORD="$(TEST_ADMIN_PASSWORD)" \
	  scripts/timed.sh 'scenario pi' molecule test --scenario-name pi

pi-trixie:  ## The hub's venv and the course's environment on Debian 13 (trixie) arm64 under qemu
	BOX_ADMIN_PASSWORD="$(TEST_ADMIN_PASSWORD)" \
	  scripts/timed.sh 'scenario pi-trixie' molecule test --scenario-name pi-trixie

offline-and-upgrade:  ## The offline and the upgrade scenarios, at the same time
	$(TWO_AT_ONCE) offline upgrade

offline:  ## Build the bundle, provision a box with no network from it, check it
	BOX_ARCH=$$(dpkg --print-architecture) \
	BOX_ADMIN_PASSWORD="$(TEST_ADMIN_PASSWORD)" \
	  scripts/timed.sh 'scenario offline' molecule test --scenario-name offline

upgrade:  ## A Debian 12 (bookworm) box provisioned by the first release, then by this one; its backup restored on trixie
	BOX_IMAGE=classbox/debian-systemd:bookworm \
	BOX_TEST_PORT=$${BOX_UPGRADE_TEST_PORT:-18081} \
	BOX_ADMIN_PASSWORD="$(TEST_ADMIN_PASSWORD)" \
	  scripts/timed.sh 'scenario upgrade' molecule test --scenario-name upgrade

bench:  ## Class start on the demo box: N students log in at once; then log in, start servers, load JupyterLab (as Chromium does) and run a first cell; then import pandas in a new kernel
	python bench/classroom_bench.py --url http://127.0.0.1:$${BOX_PORT:-8080} -n $(N)
	python bench/classroom_bench.py --url http://127.0.0.1:$${BOX_PORT:-8080} -n $(N) --servers --browser \
	  --container classbox-demo --imports "import pandas"

bench-stock:  ## The same (without the course's import: the stock box has no course), against a box set up as the usual guides do it (classbox-stock, port 8090)
	bench/stock/box.sh
	python bench/classroom_bench.py --url http://127.0.0.1:8090 -n $(N)
	python bench/classroom_bench.py --url http://127.0.0.1:8090 -n $(N) --servers --browser --container classbox-stock

bench-floor:  ## The least CPU a student's Jupyter server and kernel take, on the demo box: Jupyter Server alone, with JupyterLab, as the box runs it
	docker exec -i -e RUNS=$${RUNS:-9} $${BOX_NAME:-classbox-demo} /opt/jupyterhub/venv/bin/python - < bench/server_floor.py

bench-offline:  ## Install time from the offline bundle: a fresh box with no network, provisioned twice
	bench/offline-install.sh
