# carelog: `make run` serves the demo home, `make test` runs every test, `make bench` measures.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench lint format system-packages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/flask --app carelog db upgrade
	$(BIN)/flask --app carelog demo --if-empty
	@echo "carelog is serving the demo home at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/gunicorn --config python:carelog.ops.gunicorn_config --workers 2 --bind $(HOST):$(PORT) --access-logfile - 'carelog:create_app()'

# Debian packages the tests use: a browser, PDF tools, LibreOffice Calc (does the CSV open?),
# and PostgreSQL to start a real server.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v qpdf >/dev/null || missing="$$missing qpdf"; \
	command -v soffice >/dev/null || missing="$$missing libreoffice-calc-nogui"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y -qq --no-install-recommends $$missing; \
	fi

test: $(VENV)/.installed system-packages
	$(BIN)/ruff check carelog tests bench
	$(BIN)/mypy
	$(BIN)/pytest -m "not serial and not browser" -n 2 --durations=15
	$(BIN)/pytest -m "browser and not serial" -n 2 --durations=10
	$(BIN)/pytest -m serial --durations=10

bench: $(VENV)/.installed system-packages
	$(BIN)/python -m bench

lint: $(VENV)/.installed
	$(BIN)/ruff check carelog tests bench
	$(BIN)/ruff format --check carelog tests bench
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format carelog tests bench
	$(BIN)/ruff check --fix carelog tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
