"""The layout rules of the developers' guide, checked on the source so a change cannot drift.

Each vendor is imported in one rag module; the UI and CLI only reach the service layer;
modules and functions stay small; data flows one way through the stage packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAG = ROOT / "rag"
# Vendor import name -> the one rag module allowed to import it.
VENDORS = {
    "chromadb": "rag/index/store.py",
    "sentence_transformers": "rag/index/embedder.py",
    "torch": "rag/index/embedder.py",
    "langchain_core": "rag/llm/chat.py",
    "langchain_ollama": "rag/llm/chat.py",
    "langchain_openai": "rag/llm/chat.py",
    "llama_cpp": "rag/llm/chat.py",
    "langchain_text_splitters": "rag/ingest/splitting.py",
    "pypdf": "rag/ingest/reading.py",
    "docx": "rag/core/word.py",
    "bm25s": "rag/retrieve/lexical.py",
    "Stemmer": "rag/core/stemming.py",
    "streamlit": "rag/ui/cache.py",
}
# Stage order: a package may import its own stage and earlier ones, never a later one.
STAGES = ["core", "ingest", "index", "understand", "retrieve", "answer", "llm", "trainer", "ui"]
# What the renderers (app, pages, CLI) may import from rag.
RENDER_ALLOWED = ("rag.assistant", "rag.library", "rag.core", "rag.ui", "rag.trainer.service")


def _modules() -> list[Path]:
    return sorted(RAG.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_each_vendor_is_imported_in_one_rag_module(vendor):
    users = {_rel(p) for p in _modules() if any(n.split(".")[0] == vendor for n in _imports(p))}
    assert users <= {VENDORS[vendor]}, f"{vendor} imported outside {VENDORS[vendor]}: {users}"


def test_renderers_only_reach_the_service_layer():
    renderers = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py")), RAG / "cli.py"]
    for path in renderers:
        for name in _imports(path):
            if name == "rag" or name.startswith("rag."):
                assert name.startswith(RENDER_ALLOWED), f"{_rel(path)} imports {name}"


def test_stages_import_only_themselves_and_earlier_stages():
    for path in _modules():
        parts = path.relative_to(RAG).parts
        if len(parts) < 2 or parts[0] not in STAGES:
            continue
        own = STAGES.index(parts[0])
        for name in _imports(path):
            bits = name.split(".")
            if bits[0] == "rag" and len(bits) > 1 and bits[1] in STAGES:
                later = STAGES.index(bits[1]) > own
                assert not later, f"{_rel(path)} ({parts[0]}) imports later stage {name}"


def test_modules_stay_under_about_400_lines():
    long = {_rel(p): n for p in _modules() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_functions_stay_under_about_60_lines():
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > 60:
                    long[f"{_rel(path)}:{node.name}"] = size
    assert not long, long


def test_public_functions_have_a_docstring():
    missing = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            is_def = isinstance(node, (ast.FunctionDef, ast.ClassDef))
            if is_def and not node.name.startswith("_") and ast.get_docstring(node) is None:
                missing.append(f"{_rel(path)}:{node.name}")
    assert not missing, missing


def test_package_data_is_declared_for_a_non_editable_install():
    text = (ROOT / "pyproject.toml").read_text()
    data = {p.relative_to(RAG).as_posix() for p in (RAG / "data").rglob("*") if p.is_file()}
    for pattern in ("data/*.toml", "data/prompts/*.md"):
        assert f'"{pattern}"' in text
    assert all(p.endswith((".toml", ".md")) for p in data), data
