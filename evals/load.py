"""Load test of the running chat: N concurrent browser sessions against one `streamlit run`.

    .venv/bin/python -m evals.load --users 1,4,8 --questions 4

Builds an index of corpus/ in a temporary folder, serves app.py on loopback as `make app` does
(its offline environment, a temporary feedback file), and drives one headless Chromium with N
contexts, each its own Streamlit session. Every session asks its own questions from
evals/questions.jsonl (answers chosen so no two in a phase share a quote), checks that its own
answer arrives, and rates it. Then every page and the feedback file are checked for another
session's question, answer or rating. Reports p50/p95 time to answer per N, errors, leaks,
and the app process's CPU seconds per answer (the browsers share the same cores, so wall time
at N = 8 mostly measures them; CPU per answer is the app's own cost). Writes evals/out/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

from evals.load_browser import Expected, Phase, run_phase, serve

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "evals" / "questions.jsonl"
OUT = ROOT / "evals" / "out" / "load.json"
# The app warms up on this one before any phase, so model and index load are not counted.
WARM_UP = "What did the Child Z review recommend?"
CPU_TARGET = 1.2
SEED = 20


def offline_env(tmp: Path) -> dict[str, str]:
    """The Makefile's offline environment, with every RAG_ path inside `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return env | {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "RAG_CORPUS_DIR": str(ROOT / "corpus"),
        "RAG_VECTORSTORE_DIR": str(tmp / "vectorstore"),
        "RAG_FEEDBACK_DB": str(tmp / "feedback.sqlite3"),
    }


def _quote_keys(answer) -> tuple[str, ...]:
    from rag.answer.verify import display

    # A prefix is enough to tell quotes apart and survives the " [n]" marker after each one.
    return tuple(display(c.quote.text)[:70] for c in answer.citations)


def prepare(env: dict[str, str], users: list[int], per_session: int) -> tuple:
    """Build the index; the warm-up and each phase's questions, with the answers to show.

    Runs in its own process, so the driver never holds the model. Within a phase no two
    questions share a quote, so a quote on the wrong page is a leak, not a coincidence.
    """
    os.environ.update(env)
    from rag.assistant import Assistant
    from rag.core.settings import Settings
    from rag.understand.followup import Exchange

    assistant = Assistant(Settings())
    report = assistant.ingest()
    if report.failures:
        raise SystemExit(f"ingest failed: {report.failures}")
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    pool = [r["question"] for r in rows if r["answerable"] and r["question"] != WARM_UP]
    random.Random(SEED).shuffle(pool)
    previous = assistant.prepare(WARM_UP)
    warm = assistant.respond(previous)
    before = [Exchange(previous.resolved, warm)]
    phases: list[list[Expected]] = []
    for count in (n * per_session for n in users):
        chosen: list[Expected] = []
        used: set[str] = set()
        while len(chosen) < count and pool:
            question = pool.pop()
            # Asked after another question it must still be read on its own, not as a
            # follow-up, so its answer does not depend on which question came before.
            turn = assistant.prepare(question, before)
            if turn.findings or turn.resolved.followup:
                continue
            answer = assistant.respond(turn)
            keys = _quote_keys(answer)
            if answer.abstained or not keys or used.intersection(keys):
                continue
            used.update(keys)
            chosen.append(Expected(question, keys))
        if len(chosen) < count:
            raise SystemExit(f"only {len(chosen)} questions with distinct quotes, need {count}")
        phases.append(chosen)
    return Expected(WARM_UP, _quote_keys(warm)), phases


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid`, its reaped children and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name is in parentheses and may hold spaces: split after it.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        own = int(fields[11]) + int(fields[12])
        times[int(entry.name)] = own + (
            int(fields[13]) + int(fields[14]) if entry.name == str(pid) else 0
        )
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(p, 0) for p in tree) / tick


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between ranks, as numpy's default."""
    if not values:
        return None
    xs = sorted(values)
    at = (len(xs) - 1) * q / 100
    lo = int(at)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (at - lo)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Summary:
    """One phase's figures, as printed and written to JSON."""

    users: int
    answers: int
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    wall_s: float
    app_cpu_s: float
    app_cpu_per_answer_s: float | None
    driver_cpu_s: float
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)


def summarise(phase: Phase) -> Summary:
    """The figures of a finished phase."""
    times = phase.times
    return Summary(
        users=phase.users,
        answers=len(times),
        p50_s=_round(percentile(times, 50)),
        p95_s=_round(percentile(times, 95)),
        max_s=_round(max(times) if times else None),
        wall_s=round(phase.wall, 2),
        app_cpu_s=round(phase.app_cpu, 2),
        app_cpu_per_answer_s=_round(phase.app_cpu / len(times) if times else None),
        driver_cpu_s=round(phase.driver_cpu, 2),
        errors=phase.errors,
        leaks=phase.leaks,
    )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def table(rows: list[Summary]) -> str:
    """The phases as a fixed-width table."""
    head = f"{'N':>3} {'answers':>7} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'wall s':>7} "
    head += (
        f"{'app CPU s':>9} {'CPU/ans':>8} {'browser+driver CPU s':>20} {'errors':>6} {'leaks':>5}"
    )
    lines = [head]
    for r in rows:
        per = f"{r.app_cpu_per_answer_s:8.3f}" if r.app_cpu_per_answer_s is not None else " " * 8
        lines.append(
            f"{r.users:>3} {r.answers:>7} {_f(r.p50_s)} {_f(r.p95_s)} {_f(r.max_s)} "
            f"{r.wall_s:7.1f} {r.app_cpu_s:9.2f} {per} {r.driver_cpu_s:20.2f} "
            f"{len(r.errors):>6} {len(r.leaks):>5}"
        )
    return "\n".join(lines)


def _f(x: float | None) -> str:
    return f"{x:7.2f}" if x is not None else " " * 7


def verdict(rows: list[Summary]) -> dict:
    """The issue's targets, checked on the largest N against N = 1."""
    one = next((r for r in rows if r.users == 1), None)
    top = max(rows, key=lambda r: r.users)
    ratio = None
    if one and one.app_cpu_per_answer_s and top.app_cpu_per_answer_s is not None:
        ratio = round(top.app_cpu_per_answer_s / one.app_cpu_per_answer_s, 3)
    return {
        "largest_users": top.users,
        "errors_at_largest": len(top.errors),
        "leaks_at_largest": len(top.leaks),
        "cpu_per_answer_ratio": ratio,
        "cpu_target": CPU_TARGET,
        "met": not top.errors and not top.leaks and ratio is not None and ratio <= CPU_TARGET,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: users per phase, questions per session, port, output file."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", default="1,4,8", help="comma-separated sessions per phase")
    p.add_argument("--questions", type=int, default=4, help="questions asked by each session")
    p.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    p.add_argument("--out", type=Path, default=OUT, help="JSON output file")
    args = p.parse_args(argv)
    args.users = [int(n) for n in args.users.split(",") if n.strip()]
    if not args.users or min(args.users) < 1 or args.questions < 1:
        p.error("--users needs positive counts and --questions at least 1")
    return args


def main(argv: list[str] | None = None) -> dict:
    """Run every phase, print the table and write the JSON; returns what was written."""
    args = parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian chromium is missing: run `make browser-deps`")
    tmp = Path(tempfile.mkdtemp(prefix="rag_load_"))
    try:
        env = offline_env(tmp)
        t = time.perf_counter()
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            warm, plans = pool.submit(prepare, env, args.users, args.questions).result()
        print(f"index built and questions chosen in {time.perf_counter() - t:.0f} s", flush=True)
        port = args.port or free_port()
        with serve(ROOT, env, port, tmp / "streamlit.log") as (url, pid):
            phases = asyncio.run(drive(url, pid, chromium, args, warm, plans, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [summarise(p) for p in phases]
    print(table(rows))
    for r in rows:
        for kind, items in (("error", r.errors), ("leak", r.leaks)):
            for item in items:
                print(f"N={r.users} {kind}: {item}")
    result = {
        "command": "python -m evals.load " + " ".join(sys.argv[1:] if argv is None else argv),
        "cores": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "questions_per_session": args.questions,
        "phases": [asdict(r) for r in rows],
        "verdict": verdict(rows),
    }
    print(json.dumps(result["verdict"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


async def drive(url, pid, chromium, args, warm_up, plans, tmp) -> list[Phase]:
    """Warm the app up with one question, then run each phase in turn in one browser."""
    from playwright.async_api import async_playwright

    def cpu() -> tuple[float, float]:
        app = process_cpu(pid)
        # The server is a child of this process too: the driver's figure excludes it.
        return app, process_cpu(os.getpid()) - app

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            warm = Phase(0)
            await run_phase(browser, url, [[warm_up]], warm, tmp, cpu)
            if warm.errors or warm.leaks:
                raise SystemExit(f"warm-up failed: {warm.errors + warm.leaks}")
            print(f"warm-up answered in {warm.times[0]:.1f} s", flush=True)
            done = []
            k = args.questions
            for n, plan in zip(args.users, plans):
                phase = Phase(n)
                sessions = [plan[i * k : (i + 1) * k] for i in range(n)]
                await run_phase(browser, url, sessions, phase, tmp, cpu)
                print(f"N={n}: {len(phase.times)} answers in {phase.wall:.1f} s", flush=True)
                done.append(phase)
            return done
        finally:
            await browser.close()


# As tests/test_browser.py: no network here, so nothing in the browser may try to reach out.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

if __name__ == "__main__":
    main()
