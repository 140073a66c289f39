"""Kill an ingest with SIGKILL part-way: the old index answers exactly as before, then recovers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow

QUESTIONS = [
    "What was the first recommendation for Midwifery/Neonatal Services in Child P?",
    "What did Finding Two of the Child Z review say?",
    "What did the Baby Sally review recommend about fathers?",
    "What does the 6 step briefing say about crying babies?",
    "What are the rules for parking at the hospital?",
]
OLD = "The LSCP Unborn Baby Safeguarding Protocol was reviewed and updated in March 2021."
NEW = "The LSCP Unborn Baby Safeguarding Protocol was rewritten with school nurses in June 2023."


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return env | {
        "RAG_CORPUS_DIR": str(CORPUS),
        "RAG_VECTORSTORE_DIR": str(tmp / "vectorstore"),
        "RAG_FEEDBACK_DB": str(tmp / "feedback.sqlite3"),
        # Small batches, so the killed run has written some of its new chunks already.
        "RAG_INGEST_BATCH": "4",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }


def _worker(step: str, tmp: Path, docs: Path, questions: Path) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.ingest_worker", step, str(docs), str(questions)],
        cwd=ROOT,
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_sigkill_mid_ingest_keeps_the_old_index_then_recovers(tmp_path):
    docs = tmp_path / "docs"
    # Four of the five corpus documents keep the test quick; the thematic response is left out.
    shutil.copytree(
        CORPUS, docs, ignore=shutil.ignore_patterns("*.toml", "southampton-nai-thematic-response*")
    )
    questions = tmp_path / "questions.json"
    questions.write_text(json.dumps(QUESTIONS))

    built, before = _worker("build", tmp_path, docs, questions)
    assert built["generation"] == 0 and len(built["added"]) == 4
    assert sum(not a["abstained"] for a in before["answers"]) >= 3

    # Pending changes of every kind: one document edited, one removed, one added.
    child_p = docs / "hampshire-child-p-response.md"
    child_p.write_text(child_p.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    (docs / "southampton-nai-thematic-briefing.md").unlink()
    sally = (docs / "hampshire-baby-sally-response.md").read_text(encoding="utf-8")
    (docs / "extra-review.md").write_text(sally.replace("Sally", "Quinn"), encoding="utf-8")

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ingest_worker", "pause", str(docs), str(questions)],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        line = ""
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            if '"paused"' in line:
                break
        assert '"paused"' in line, f"worker never reached the pause point: {line!r}"
        paused = json.loads(line)
        # The killed run was part-way through building generation 1.
        assert paused["generations"] == [0, 1]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    state, during, recovered, after = _worker("recover", tmp_path, docs, questions)
    # After the kill: the half-built generation is there, but nobody reads it.
    assert state["generation"] == 0 and state["generations"] == [0, 1]
    assert "extra-review" not in state["documents"]
    assert during["answers"] == before["answers"]
    # The next run drops the half-built generation, and completes.
    assert recovered["replaced"] == ["hampshire-child-p-response"]
    assert recovered["added"] == ["extra-review"]
    assert recovered["removed"] == ["southampton-nai-thematic-briefing"]
    assert recovered["generation"] == 1 and recovered["generations"] == [0, 1]
    assert "extra-review" in recovered["documents"]
    assert "southampton-nai-thematic-briefing" not in recovered["documents"]
    passages = [c["passage"] for a in after["answers"] for c in a["citations"]]
    assert any(NEW in p for p in passages) and not any(OLD in p for p in passages)
    assert any(OLD in c["passage"] for a in before["answers"] for c in a["citations"])
    assert all(
        c["document"] != "southampton-nai-thematic-briefing"
        for a in after["answers"]
        for c in a["citations"]
    )
