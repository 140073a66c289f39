# Two commands on a fresh machine:  make app   (set up, build the index if missing, run the UI)
#                                   make test  (set up and run the test suite)
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
HASH   := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
# The app needs only the base install; the tests add pytest, Playwright, fpdf2 and the LLM
# extras (llama-cpp-python compiles llama.cpp, so the app's install stays without it).
APP_STAMP  := $(VENV)/.installed-app-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)

# Offline and private by default: no hub downloads, no telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: install install-test browser-deps index app test gate lint format clean

$(APP_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	rm -f $(VENV)/.installed-app-* && touch $(APP_STAMP)

# llama.cpp is built for AVX2, not -march=native: a native build here enabled AMX, which this
# sandboxed CPU advertises but will not run (the tests died with "Illegal instruction").
# --no-cache-dir: a wheel pip cached from an earlier build would skip CMAKE_ARGS altogether.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

$(TEST_STAMP): $(APP_STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet --no-cache-dir -e ".[test,ollama,openai,llamacpp]"
	rm -f $(VENV)/.installed-test-* && touch $(TEST_STAMP)

install: $(APP_STAMP)

install-test: $(TEST_STAMP)

# Idempotent: builds the index when missing, and writes nothing when the corpus is unchanged.
index: install
	$(PY) -m rag ingest --keep-going

app: index
	$(VENV)/bin/streamlit run app.py --server.address localhost --server.port 8501

# The browser test drives Debian's chromium; Playwright itself never downloads a browser.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

test: install-test browser-deps
	$(PY) -m pytest -q

# The gate: the shipped gold set, then the layout zoo (fictional reviews with no catalog entry).
gate: install-test
	$(PY) -m evals.run --gate
	$(PY) -m evals.zoo_run --gate --no-baseline

lint: install-test
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install-test
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) vectorstore/chroma.sqlite3 vectorstore/*-*-*-*-*
