"""A non-editable install: the package carries its prompts and word tables, and `rag` runs.

The package is installed with pip into a folder of its own (its dependencies come from this
environment) and run from outside the checkout, so nothing can be found through the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

REVIEW = """# Practice review: Child M

## Recommendations

Recommendation 1: The partnership should make sure that every school records the reasons
a child is taken off its roll and tells the local authority the same day.
"""


@pytest.mark.slow
def test_installed_package_reads_its_data_and_answers(tmp_path):
    # A copy of the source, so the build leaves nothing behind in the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "rag", source / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--target", str(target), str(source)],
        check=True,
        cwd=tmp_path,
    )
    data = {
        p.relative_to(target / "rag" / "data").as_posix()
        for p in (target / "rag" / "data").rglob("*")
    }
    assert {"words.toml", "themes.toml", "prompts/answer.md", "prompts/rewrite.md"} <= data

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "child-m.md").write_text(REVIEW)
    env = os.environ | {
        "PYTHONPATH": str(target),
        "HF_HUB_OFFLINE": "1",
        "RAG_CORPUS_DIR": str(corpus),
        "RAG_VECTORSTORE_DIR": str(tmp_path / "vs"),
        "RAG_FEEDBACK_DB": str(tmp_path / "fb.sqlite3"),
    }
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import rag, rag.llm.prompting as p; print(rag.__file__);"
            "print(p.load_prompt('answer') is not None)",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.splitlines() == [str(target / "rag" / "__init__.py"), "True"]

    run = [sys.executable, "-m", "rag.cli"]
    subprocess.run([*run, "ingest"], env=env, cwd=tmp_path, check=True, capture_output=True)
    asked = subprocess.run(
        [*run, "ask", "What should schools tell the local authority?"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tells the local authority the same day" in asked.stdout
