"""Server mode: a real `chroma run` on localhost answers exactly as the embedded default does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.index.store import Store
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).with_name("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"chroma exited: {log.read_text()[-2000:]}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"chroma did not start in {seconds}s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real Chroma server on localhost, persisting into a temporary folder."""
    assert CHROMA.exists(), f"the chromadb package's CLI is missing: {CHROMA}"
    data = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = data / "server.log"
    env = os.environ | {"ANONYMIZED_TELEMETRY": "False"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(CHROMA),
                "run",
                "--path",
                str(data / "db"),
                "--host",
                "localhost",
                "--port",
                str(port),
            ],  # fmt: skip
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_until_up(port, proc, log)
        yield f"http://localhost:{port}", data / "db"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _questions(n: int = 12) -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "evals/questions.jsonl").open(encoding="utf-8")]
    answerable = [r["question"] for r in rows if r.get("answerable")][:n]
    return [*answerable, "What are the rules for parking at the hospital?"]


def test_server_mode_matches_embedded_mode(chroma_server, tmp_path, embedder, pipeline):
    url, db = chroma_server
    settings = make_settings(tmp_path, chroma_url=url, state_dir=tmp_path / "state")
    store = Store(settings)
    # The HTTP client, not the embedded one.
    assert store.client.get_settings().chroma_api_impl == "chromadb.api.fastapi.FastAPI"
    served = Assistant(settings, embedder=embedder, store=store)
    report = served.ingest()
    assert not report.failures and len(report.sync.added) == 5
    # Everything went to the server: its folder holds the data, the local one was never made.
    assert (db / "chroma.sqlite3").exists()
    assert not (tmp_path / "vectorstore").exists()
    # What the retriever builds is saved in its own folder, as with embedded Chroma.
    assert any((tmp_path / "state").iterdir())
    assert store.count() == pipeline.store.count()

    for q in _questions():
        assert served.ask(q).to_json() == pipeline.ask(q).to_json(), q

    # A second process-like client sees the same index, and an unchanged corpus writes nothing.
    again = Assistant(settings, embedder=embedder).ingest()
    assert not again.sync.wrote and len(again.sync.unchanged) == 5
