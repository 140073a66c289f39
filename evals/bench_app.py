"""Warm answer render time of the chat UI, against `Assistant.ask` alone measured in the same run.

    .venv/bin/python -m evals.bench_app

Builds a temporary index of corpus/, loads the app once (cold: model and index), then for each
question times a full AppTest script run that asks it and renders the answer and its cards.
The baseline is a second warm pipeline answering the same questions for the first time,
on a worker thread like the app script, interleaved with the UI runs. Machine load moves
both figures; read the ratio.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = "What did the Child Z review recommend?"
QUESTIONS = (
    "What did the Child P review recommend for health visitors?",
    "What did the thematic review on non-accidental injury recommend for police officers?",
    "What did the Baby Sally review recommend about safe sleeping?",
    "How should practitioners respond to parental mental health episodes?",
    "What training do staff receive on safeguarding?",
    "What is the capital of France?",
)


def timed_in_thread(fn) -> float:
    """Seconds `fn` takes on a worker thread, as Streamlit runs the app script.

    Torch in the main thread of a loaded 2-core machine ran ~10x slower than on a worker
    thread here, so the baseline runs where the app does.
    """
    took: list[float] = []

    def run() -> None:
        t = time.perf_counter()
        fn()
        took.append(time.perf_counter() - t)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return took[0]


def main() -> None:
    """Print cold load, warm UI answer times and the ratio to the pipeline alone."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from streamlit.testing.v1 import AppTest

    from rag.assistant import Assistant
    from rag.core.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench_app_"))
    settings = Settings(
        corpus_dir=ROOT / "corpus",
        vectorstore_dir=tmp / "vectorstore",
        feedback_db=tmp / "feedback.sqlite3",
        chroma_url=None,
        llm=None,
    )
    Assistant(settings).ingest()
    os.environ["RAG_VECTORSTORE_DIR"] = str(settings.vectorstore_dir)
    os.environ["RAG_FEEDBACK_DB"] = str(settings.feedback_db)
    os.environ["RAG_CORPUS_DIR"] = str(settings.corpus_dir)
    for name in ("RAG_CHROMA_URL", "RAG_LLM"):
        os.environ.pop(name, None)

    t = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    cold = time.perf_counter() - t
    # Both sides answer one question first, so lazy caches are built before timing.
    at.chat_input(key="question").set_value(WARM_UP).run()

    baseline_pipe = Assistant(settings)
    timed_in_thread(lambda: baseline_pipe.ask(WARM_UP))
    # Interleaved, so load from other processes falls on both sides alike.
    ui: list[float] = []
    base: list[float] = []
    for q in QUESTIONS:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        t = time.perf_counter()
        at.chat_input(key="question").set_value(q).run()
        ui.append(time.perf_counter() - t)
        assert not at.exception and at.session_state["turns"][0]["answer"] is not None
        base.append(timed_in_thread(lambda q=q: baseline_pipe.ask(q)))

    med_ui, med_base = statistics.median(ui), statistics.median(base)
    print(f"cold app load (model + index): {cold:.2f} s")
    print(f"warm answer, full UI render:   median {med_ui:.3f} s, max {max(ui):.3f} s")
    print(f"warm Assistant.ask (baseline):  median {med_base:.3f} s, max {max(base):.3f} s")
    print(f"ratio UI / baseline (median):  {med_ui / med_base:.2f}")


if __name__ == "__main__":
    main()
