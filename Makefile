# Shareloop. `make demo` runs it; `make test` tests it. Both build .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test migrate seed clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

demo: export DEMO_MODE ?= 1
demo: export DEBUG ?= 1
demo: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed
	$(PY) manage.py rundemo --host $(HOST) --port $(PORT)

# With DATABASE_URL/REDIS_URL set (as in CI) the integration tests use PostgreSQL, Redis and a real
# worker; without them, the embedded default (SQLite + filesystem broker) and still a real worker.
test: export SECRET_KEY ?= make-test-only-not-a-secret
test: export SHARELOOP_VAR_DIR ?= $(CURDIR)/var/test
test: install
	mkdir -p var/test
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var staticfiles

# The benchmark suite (bench/README.md): needs PostgreSQL and Redis; recreates its own database.
# Full sizes: make bench BENCH_ARGS="--storm 20000 --latency 1000 --reads 1000 --throughput-seconds 20"
BENCH_ARGS ?= --followers 100000 --storm 2000 --latency 300 --depth-total 1000000 --depth-user 100000 --reads 300 --throughput-seconds 10
$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	$(PY) -m pip install --quiet -r bench/requirements.txt
	touch $@

.PHONY: bench
bench: $(VENV)/.bench-installed
	$(PY) -m bench.run $(BENCH_ARGS)
