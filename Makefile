# Shareloop. `make demo` runs it; `make test` tests it. Both build .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint migrate seed clean scenarios

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
	@# A second terminal's manage.py (scenario, simulate, seed) reads this to act on the same demo.
	env | grep -E '^(DEMO_MODE|DEBUG|DATABASE_URL|REDIS_URL|SHARELOOP_VAR_DIR|SHARE_NOTIFICATION_BATCH_SECONDS|HTTPS_ONLY)=' > var/demo.env || true
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed
	$(PY) manage.py rundemo --host $(HOST) --port $(PORT)

# With DATABASE_URL/REDIS_URL set (as in CI) the integration tests use PostgreSQL, Redis and a real
# worker; without them, the embedded default (SQLite + filesystem broker) and still a real worker.
test: export SECRET_KEY ?= make-test-only-not-a-secret
test: export SHARELOOP_VAR_DIR ?= $(CURDIR)/var/test
# Production defaults the tests opt out of (test_hardening.py checks the production values).
test: export HTTPS_ONLY ?= 0
test: export SHARE_NOTIFICATION_BATCH_SECONDS ?= 0
test: export THROTTLE_RATE_WRITES ?= 100000/minute
test: export THROTTLE_RATE_SIGNUP ?= 100000/minute
test: export THROTTLE_RATE_LOGIN ?= 100000/minute
test: export THROTTLE_RATE_LOGIN_FAILURES ?= 100000/minute
test: install chromium
	mkdir -p var/test
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff, pinned in requirements-dev.txt and configured in pyproject.toml: the lint rules, then the formatting.
# Both run, so one pass shows every problem.
lint: install
	$(PY) -m ruff check . ; status=$$?; $(PY) -m ruff format --check . && exit $$status

# The browser tests (tests/test_browser.py) drive Debian's Chromium: as root it is installed as .ci/run
# did; otherwise one line says what to install. A run of other named test files does not need it.
CHROMIUM := /usr/bin/chromium
.PHONY: chromium
chromium:
	@case "$(PYTEST_ARGS)" in *tests/*) case "$(PYTEST_ARGS)" in *test_browser*) ;; *) exit 0;; esac;; esac; \
	test -x $(CHROMIUM) && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium && test -x $(CHROMIUM) && exit 0; fi; \
	echo "make test needs Chromium at $(CHROMIUM) for the browser tests: install it with 'sudo apt-get install chromium'"; exit 1

# The scenario files (SCENARIOS=path… to pick others) on a throwaway SQLite database and file broker
# under var/scenarios, with a Celery worker of their own: whatever DATABASE_URL/REDIS_URL say is untouched.
# Production defaults otherwise (share batching, throttles, HTTPS): the runner releases its own held shares.
SCENARIOS ?= scenarios
scenarios: export SECRET_KEY ?= make-scenarios-only-not-a-secret
scenarios: export SHARELOOP_VAR_DIR := $(CURDIR)/var/scenarios
scenarios: export PYTHONWARNINGS := ignore:No directory at
scenarios: install
	rm -rf var/scenarios && mkdir -p var/scenarios
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py migrate --noinput --verbosity 0
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py scenario --worker $(SCENARIOS)

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
