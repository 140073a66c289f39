# Two commands on a fresh machine:  make app   (set up, build the index if missing, run the UI)
#                                   make test  (set up and run the test suite)
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

# Offline and private by default: no hub downloads, no telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false

.PHONY: install browser-deps index app test gate lint format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,ollama,openai,llamacpp]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Idempotent: builds the index when missing, and writes nothing when the corpus is unchanged.
index: install
	$(PY) -m rag ingest --keep-going

app: index
	$(VENV)/bin/streamlit run app.py --server.address localhost --server.port 8501

# The browser test drives Debian's chromium; Playwright itself never downloads a browser.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

test: install browser-deps
	$(PY) -m pytest -q

gate: install
	$(PY) -m evals.run --gate

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) vectorstore/chroma.sqlite3 vectorstore/*-*-*-*-*
