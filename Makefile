# SMS Hub: `make run` starts the dashboard, `make test` runs the whole suite, `make bench`
# the benchmarks.
# Both set everything up on a fresh machine (virtualenv, packages, browser for tests).

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test bench lint format deps-app deps-test browser clean

$(PY):
	"$$(scripts/find-python)" -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=25.1"

deps-app: $(PY)
	$(PIP) install --quiet --group app

deps-test: $(PY)
	$(PIP) install --quiet --group test

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: deps-app
	scripts/run

lint: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: deps-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: deps-test browser lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Issue 7's benchmarks on the local PostgreSQL and Redis (README, Benchmarks); they empty
# the database they use (BENCH_DATABASE_URL, default smshub_bench). BENCH_ARGS=--quick.
bench: deps-test
	$(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/staticfiles
