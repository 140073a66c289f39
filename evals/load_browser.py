"""The browser side of evals/load.py: serve the app, drive sessions, audit pages and feedback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

LOAD_MS = 240_000  # the first page load includes loading the model and the index
ANSWER_MS = 120_000
HEALTHY_S = 180
SAVED = "Feedback saved, thank you."
MESSAGE = '[data-testid="stChatMessage"]'
# The avatar is an icon whose name is text ("face"): read only the message's content.
USER = (
    MESSAGE + ':has([data-testid="stChatMessageAvatarUser"]) [data-testid="stChatMessageContent"]'
)
RUNNING = '[data-testid="stStatusWidgetRunningIcon"]'
PROBLEMS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


@dataclass(frozen=True)
class Expected:
    """A question and the opening of each quote its answer must show."""

    question: str
    keys: tuple[str, ...]


@dataclass
class Phase:
    """What one phase of N sessions measured and found."""

    users: int
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    app_cpu: float = 0.0
    driver_cpu: float = 0.0
    wall: float = 0.0


def rating(session: int, turn: int) -> str:
    """The rating session `session` gives its answer `turn`: alternating, so a swap shows."""
    return "up" if (session + turn) % 2 == 0 else "down"


def folded(text: str) -> str:
    """Whitespace folded to single spaces, as quotes are displayed."""
    return " ".join(text.split())


@contextmanager
def serve(root: Path, env: dict[str, str], port: int, log_path: Path):
    """`streamlit run app.py` on loopback as `make app` runs it; yields (url, pid), then stops."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, url, log_path)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + HEALTHY_S
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"streamlit was not healthy within {HEALTHY_S} s")
        time.sleep(0.5)


async def open_session(browser, url: str, errors: list[str], name: str):
    """A new browser context (so a new Streamlit session) showing the chat, ready to ask."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1600})
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{name}: page error {exc}"))
    page.on("dialog", lambda d: (errors.append(f"{name}: dialog {d.message}"), d.dismiss()))
    await page.goto(url)
    await page.get_by_text("Try one of these questions").wait_for(timeout=LOAD_MS)
    return context, page


async def idle(page) -> None:
    """Wait until the session's script run has finished (the running indicator is gone)."""
    await page.wait_for_function(
        f"() => !document.querySelector('{RUNNING}')", timeout=ANSWER_MS, polling=50
    )


async def ask(page, turn: int, question: str) -> float:
    """Seconds from pressing Enter to this turn's answer fully rendered and the run finished."""
    box = page.get_by_test_id("stChatInputTextArea")
    await box.fill(question)
    start = time.perf_counter()
    await box.press("Enter")
    # The feedback widget is the last thing a turn renders; its key carries the turn's id.
    await page.locator(f".st-key-rating_{turn}").wait_for(timeout=ANSWER_MS)
    await idle(page)
    return time.perf_counter() - start


async def rate(page, turn: int, value: str) -> None:
    """Press thumbs up or down on this turn's answer and wait for the saved note."""
    label = "Thumbs up" if value == "up" else "Thumbs down"
    await page.locator(f".st-key-rating_{turn}").get_by_role("radio", name=label).click()
    answer = page.locator(MESSAGE).nth(2 * turn - 1)
    await answer.get_by_text(SAVED).wait_for(timeout=ANSWER_MS)
    await idle(page)


async def shown_ratings(page, turns: int) -> list[str | None]:
    """The rating each turn's feedback widget shows as chosen ("up", "down" or None)."""
    shown: list[str | None] = []
    for turn in range(1, turns + 1):
        checked = page.locator(f'.st-key-rating_{turn} [role="radio"][aria-checked="true"]')
        labels = await checked.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
        shown.append({"Thumbs up": "up", "Thumbs down": "down"}.get(" ".join(labels)))
    return shown


async def converse(page, index: int, plan: list[Expected], phase: Phase) -> bool:
    """One session: ask each question in turn, check its own answer arrived, and rate it.

    The first failure ends the session (False); True when every answer arrived and was rated.
    """
    name = f"session {index}"
    for j, expected in enumerate(plan):
        turn = j + 1
        try:
            took = await ask(page, turn, expected.question)
            shown = folded(await page.locator(MESSAGE).nth(2 * turn - 1).inner_text())
            missing = [k for k in expected.keys if k not in shown]
            if missing:
                phase.errors.append(f"{name} turn {turn}: answer lacks quote {missing[0]!r}")
                return False
            phase.times.append(took)
            await rate(page, turn, rating(index, j))
        except Exception as exc:  # noqa: BLE001 - any failure is one error of the run
            phase.errors.append(f"{name} turn {turn}: {type(exc).__name__}: {exc}"[:300])
            return False
    return True


async def audit_page(
    page, index: int, plan: list[Expected], others: list[Expected], complete: bool
) -> tuple:
    """(errors, leaks) on one page: only its own questions, answers and feedback may show.

    A session that stopped early (`complete` False, already an error) is checked only for
    what belongs to others, since its own turns are not all there.
    """
    name = f"session {index}"
    errors: list[str] = []
    leaks: list[str] = []
    asked = [folded(t) for t in await page.locator(USER).all_inner_texts()]
    own = [e.question for e in plan]
    if foreign := [q for q in asked if q not in own]:
        leaks.append(f"{name}: shows questions it never asked {foreign}")
    body = folded(await page.locator("body").inner_text())
    # Quotes only: a quote can open like a document title, which every card citing it shows.
    # A quote is known by its opening words: another answer's longer quote may hold it inside.
    quoted = [folded(t) for t in await page.locator("blockquote").all_inner_texts()]
    for other in others:
        if other.question in body:
            leaks.append(f"{name} shows another session's question {other.question!r}")
        leaks += [
            f"{name} shows another session's quote {k!r}"
            for k in other.keys
            if any(t.startswith(k) for t in quoted)
        ]
    if n := await page.locator(PROBLEMS).count():
        errors.append(f"{name}: {n} error messages on the page")
    if not complete:
        return errors, leaks
    if asked != own:
        errors.append(f"{name}: questions shown {asked}, asked {own}")
    saved = body.count(SAVED)
    if saved != len(plan):
        (leaks if saved > len(plan) else errors).append(
            f"{name}: {saved} 'feedback saved' notes for {len(plan)} rated answers"
        )
    ratings = [rating(index, j) for j in range(len(plan))]
    if (chosen := await shown_ratings(page, len(plan))) != ratings:
        leaks.append(f"{name}: feedback shown {chosen}, given {ratings}")
    return errors, leaks


def audit_feedback(
    db: Path, first_id: int, sessions: list[list[Expected]], complete: list[bool]
) -> tuple:
    """(errors, leaks) in the feedback rows of a phase: each row is its own session's rating of
    its own answer, and every rated answer has exactly one row."""
    from rag.answer.verify import display
    from rag.ui.feedback import FeedbackStore

    owner = {e.question: (i, j, e) for i, plan in enumerate(sessions) for j, e in enumerate(plan)}
    errors: list[str] = []
    leaks: list[str] = []
    seen: dict[str, int] = {}
    for row in FeedbackStore(db).rows():
        if row["id"] <= first_id:
            continue
        question = row["question"]
        if question not in owner:
            leaks.append(f"feedback row {row['id']} for a question no session asked: {question!r}")
            continue
        i, j, expected = owner[question]
        seen[question] = seen.get(question, 0) + 1
        keys = tuple(display(c["quote"])[:70] for c in row["citations"])
        if keys != expected.keys:
            leaks.append(f"feedback row {row['id']} (session {i}) holds another answer: {keys}")
        if row["rating"] != rating(i, j):
            leaks.append(f"feedback row {row['id']} (session {i}) rated {row['rating']}")
    for question, count in seen.items():
        if count != 1:
            errors.append(f"{count} feedback rows for {question!r}")
    rated = [e.question for plan, done in zip(sessions, complete) if done for e in plan]
    errors += [f"no feedback row for {q!r}" for q in rated if q not in seen]
    return errors, leaks


def last_feedback_id(db: Path) -> int:
    """The highest feedback row id so far (0 when there is none)."""
    from rag.ui.feedback import FeedbackStore

    return max((r["id"] for r in FeedbackStore(db).rows()), default=0)


async def run_phase(
    browser,
    url: str,
    sessions: list[list[Expected]],
    phase: Phase,
    tmp: Path,
    cpu: Callable[[], tuple[float, float]],
) -> None:
    """Open one session per plan, then run them all at once; CPU is read around the asking."""
    opened = await asyncio.gather(
        *(open_session(browser, url, phase.errors, f"session {i}") for i in range(len(sessions)))
    )
    db = tmp / "feedback.sqlite3"
    first_id = last_feedback_id(db)
    try:
        app0, driver0 = cpu()
        start = time.perf_counter()
        pages = [page for _, page in opened]
        complete = await asyncio.gather(
            *(converse(pages[i], i, plan, phase) for i, plan in enumerate(sessions))
        )
        phase.wall = time.perf_counter() - start
        app1, driver1 = cpu()
        phase.app_cpu, phase.driver_cpu = app1 - app0, driver1 - driver0
        everyone = [e for plan in sessions for e in plan]
        for i, (page, plan) in enumerate(zip(pages, sessions)):
            others = [e for e in everyone if e not in plan]
            errors, leaks = await audit_page(page, i, plan, others, complete[i])
            phase.errors += errors
            phase.leaks += leaks
        errors, leaks = audit_feedback(db, first_id, sessions, complete)
        phase.errors += errors
        phase.leaks += leaks
    finally:
        for context, _ in opened:
            await context.close()
