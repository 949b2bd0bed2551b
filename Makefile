# Two set-up commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DATA ?= ./stateline-data
PORT ?= 8750

.PHONY: install demo test browser go bench lint lock clean

install: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

demo: install
	$(BIN)/stateline demo --data $(DATA) --port $(PORT)

test: install browser go
	$(BIN)/python -m pytest

# Debian's Chromium for the dashboard's browser tests (Playwright drives it; it never downloads a
# browser of its own). Without it those tests are skipped, with the reason in the report.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	} || echo "make browser: could not install chromium; browser tests will be skipped"

# Debian's Go and golang.org/x/mod for the interop tests that check checkpoints and witness
# cosignatures with Go's reference signed-note code. Without them those tests are skipped.
GO_NOTE := /usr/share/gocode/src/golang.org/x/mod/sumdb/note
go:
	@{ command -v go >/dev/null && test -d $(GO_NOTE); } || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go \
	    golang-golang-x-mod-dev >/dev/null; \
	} || echo "make go: could not install golang-go and golang-golang-x-mod-dev; the Go" \
	  "interop tests will be skipped"

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: install
	$(BIN)/ruff check stateline tests bench
	$(BIN)/mypy --strict stateline

# Re-pin every dependency from pyproject.toml into requirements.lock.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check setuptools wheel -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable --all | grep -v '^pip==' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
