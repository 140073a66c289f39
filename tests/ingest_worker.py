"""A separate process for the crash test: ingest, pause mid-ingest to be killed, ask, recover.

Run as `python -m tests.ingest_worker STEP DOCS QUESTIONS`; settings come from RAG_* variables.
Prints one JSON object per line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rag.assistant import Assistant
from rag.core.settings import Settings
from rag.index.embedder import Embedder


def _answers(pipe: Assistant, questions: list[str]) -> list[dict]:
    return [pipe.ask(q).to_json() for q in questions]


def _emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


class _PausingEmbedder(Embedder):
    """Embeds the first batches, then stops for good in the middle of the ingest."""

    calls = 0

    def embed(self, texts, batch_size=None):
        _PausingEmbedder.calls += 1
        if _PausingEmbedder.calls == 3:
            # Two batches are already written into the new generation; the pointer has not moved.
            _emit(step="paused", generations=self._store.generations())
            time.sleep(600)
        return super().embed(texts, batch_size)


def main(step: str, docs: Path, questions_file: Path) -> None:
    """Run one step of the crash test."""
    settings = Settings()
    questions = json.loads(questions_file.read_text(encoding="utf-8"))
    if step == "pause":
        embedder = _PausingEmbedder(settings)
        pipe = Assistant(settings, embedder=embedder)
        embedder._store = pipe.store
        pipe.ingest([docs])
        _emit(step="finished")  # never reached: the test kills the process first
        return
    pipe = Assistant(settings)
    if step == "build":
        report = pipe.ingest([docs])
        _emit(step="built", added=report.sync.added, generation=pipe.store.active_generation())
        _emit(step="answers", answers=_answers(pipe, questions))
    elif step == "recover":
        _emit(
            step="state",
            generation=pipe.store.active_generation(),
            generations=pipe.store.generations(),
            documents=sorted(pipe.store.documents()),
        )
        _emit(step="answers", answers=_answers(pipe, questions))
        report = pipe.ingest([docs])
        s = report.sync
        _emit(
            step="recovered",
            added=s.added,
            replaced=s.replaced,
            removed=s.removed,
            generation=pipe.store.active_generation(),
            generations=pipe.store.generations(),
            documents=sorted(pipe.store.documents()),
        )
        _emit(step="answers", answers=_answers(pipe, questions))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
