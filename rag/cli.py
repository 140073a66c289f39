"""The `rag` command: a thin edge that turns domain errors into messages and exit codes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from rag.core.errors import RagError
from rag.core.models import Answer, Filters
from rag.core.settings import Settings


def _assistant(settings: Settings):
    # Imported late so `rag --help` does not pay for loading chromadb.
    from rag.assistant import Assistant

    # bm25s sets its own logger to DEBUG when imported; keep stderr for real problems.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return Assistant(settings)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log rejected quotes and other details.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Practitioner learning assistant over published child safeguarding reviews."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)
    ctx.obj = Settings()


@cli.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--keep-going", is_flag=True, help="Exit 0 even when some files were skipped.")
@click.pass_obj
def ingest_cmd(settings: Settings, paths: tuple[Path, ...], keep_going: bool) -> None:
    """Index review files (default: the corpus folder); unchanged documents are not rewritten.

    Safe to run from cron: a run that changes nothing writes nothing, and a run that is killed
    leaves the previous index answering. Exit status 1 means some file was skipped.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    try:
        with _progress_bars() as progress:
            report = _assistant(settings).ingest(paths or None, progress=progress)
    except RagError as exc:
        _fail(str(exc))
    _print_ingest_summary(report)
    _print_inferred(report.inferred, settings)
    for problem in report.catalog_problems:
        click.echo(f"catalog: {problem}", err=True)
    if (report.failures or report.catalog_problems) and not keep_going:
        sys.exit(1)


@contextmanager
def _progress_bars():
    """Progress bars on stderr for files read and chunks embedded; silent when not a terminal."""
    from tqdm import tqdm

    from rag.assistant import Progress

    bars: dict[str, tqdm] = {}

    def follow(name: str, unit: str):
        def update(done: int, total: int) -> None:
            bar = bars.get(name)
            if bar is None:
                bar = tqdm(desc=name, unit=unit, total=total, disable=None, leave=False)
                bars[name] = bar
            bar.total = total
            bar.update(done - bar.n)

        return update

    try:
        yield Progress(files=follow("reading", " files"), chunks=follow("embedding", " chunks"))
    finally:
        for bar in bars.values():
            bar.close()


def _print_ingest_summary(report) -> None:
    """The summary table: what happened to each document, and why any file was skipped."""
    s = report.sync
    rows = [
        ("ingested", s.added),
        ("unchanged", s.unchanged),
        ("replaced", s.replaced),
        ("removed", s.removed),
    ]
    click.echo(f"{'outcome':<10} {'docs':>5}  documents")
    for label, ids in rows:
        click.echo(f"{label:<10} {len(ids):>5}  {', '.join(ids)}".rstrip())
    click.echo(f"{'skipped':<10} {len(report.failures):>5}")
    for failure in report.failures:
        detail = f" ({failure.detail})" if failure.detail else ""
        click.echo(f"  {failure.path}: {failure.reason}{detail}")
    click.echo(
        f"index: {s.chunks_total} chunks ({s.chunks_embedded} embedded this run, "
        f"{s.chunks_reused} reused)" + ("" if s.wrote else "; nothing written")
    )


_SHOWN = (
    ("title", "title"),
    ("partnership", "partnership"),
    ("review", "review"),
    ("review_type", "review type"),
    ("kind", "kind"),
    ("year", "year"),
    ("author", "author"),
    ("aliases", "aliases"),
)


def _print_inferred(metas, settings: Settings) -> None:
    """What was read from each new document's own text, so a wrong guess is caught early."""
    for meta in metas:
        click.echo(f"read from the text of {meta.id} (not in {settings.catalog_file}):")
        for name, label in _SHOWN:
            value = getattr(meta, name)
            value = ", ".join(value) if isinstance(value, tuple) else value
            if name in meta.inferred:
                click.echo(f"  {label + ':':<13} {value}")
        missing = [label for name, label in _SHOWN if not getattr(meta, name)]
        if missing:
            click.echo(f"  {'not found:':<13} {', '.join(missing)}")
    if metas:
        where = settings.corpus_dir / settings.catalog_file
        click.echo(f"correct any of these with an entry in {where}")


def _questions(batch: Path) -> Iterator[tuple[str | None, str]]:
    for line in batch.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            obj = json.loads(line)
            yield (str(obj["id"]) if "id" in obj else None), obj.get("question", "")
        else:
            yield None, line


def _print_citation(c) -> None:
    from rag.ui.view import display

    page = f", p. {c.page}" if c.page else ""
    partnership = f" ({c.hit.meta.partnership})" if c.hit.meta.partnership else ""
    click.echo(f"  [{c.n}] {c.hit.meta.title}{partnership} — {c.hit.chunk.section}{page}")
    click.echo(f'      "{display(c.quote.text)}"')


def _print_groups(answer: Answer, every: bool) -> None:
    """An answer across reviews: how many address it, then each shown review's quotes."""
    from rag.ui import view

    click.echo(view.lead_in(answer))
    for group in view.visible_groups(answer, every):
        click.echo(f"\n{view.group_heading(group)}:")
        for c in group.citations:
            _print_citation(c)
    if answer.hidden and not every:
        more = view.more_label(answer).removeprefix("Show ")
        click.echo(f"\n{more} address this: add --all-reviews to show them.")


def _print_answer(answer: Answer, every: bool = False) -> None:
    if answer.groups:
        _print_groups(answer, every)
    else:
        click.echo(answer.text)
        if answer.citations:
            click.echo("\nSources:")
        for c in answer.citations:
            _print_citation(c)
    for note in answer.notes:
        click.echo(f"\nNote: {note}")


@cli.command("ask")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
@click.option("--k", type=click.IntRange(1, 10), default=None, help="Most passages to quote.")
@click.option("--document", multiple=True, help="Only cite this document id (repeatable).")
@click.option("--partnership", multiple=True, help="Only cite this partnership (repeatable).")
@click.option("--review", multiple=True, help="Only cite this review (repeatable).")
@click.option(
    "--all-reviews",
    "every",
    is_flag=True,
    help="When several reviews address a question, quote every one (not only the first few; "
    "with --json, the others are listed without quotes).",
)
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of questions: one per line, or JSONL objects with `question` and optional `id`.",
)
@click.pass_obj
def ask_cmd(settings, question, as_json, k, document, partnership, review, every, batch) -> None:
    """Answer a question with verbatim quotes from the reviews, each with a citation."""
    if (question is None) == (batch is None):
        _fail("give a question, or --batch FILE (not both)")
    filters = Filters(documents=document, partnerships=partnership, reviews=review)
    items = list(_questions(batch)) if batch else [(None, question)]
    try:
        assistant = _assistant(settings)
        assistant.ready()  # fail fast with the missing-index message
    except RagError as exc:
        _fail(str(exc))
    failed = 0
    for qid, q in items:
        try:
            turn = assistant.prepare(q, filters=filters)
            if turn.findings:
                _warn_personal(turn, qid)
            answer = assistant.ask(turn.resolved.query, turn.resolved.filters, k=k, answer_id=qid)
            if every:
                answer = assistant.all_reviews(answer)
        except RagError as exc:
            failed += 1
            if not batch:
                _fail(str(exc))
            err = {"id": qid} if qid is not None else {}
            click.echo(json.dumps(err | {"question": q, "error": str(exc)}, ensure_ascii=False))
            continue
        if as_json:
            notes = {"notes": list(answer.notes)} if answer.notes else {}
            click.echo(json.dumps(answer.to_json() | notes, ensure_ascii=False))
        else:
            _print_answer(answer, every)
    if failed:
        sys.exit(1)


def _warn_personal(turn, qid: str | None) -> None:
    """Say on stderr that personal details were found and left out of what was searched."""
    from rag.ui.view import personal_details_warning

    where = f"question {qid}: " if qid is not None else ""
    click.echo(
        f"warning: {where}{personal_details_warning(turn.findings)} They were removed before "
        f"searching; searched for: {turn.resolved.query}",
        err=True,
    )


@cli.group("feedback")
def feedback_group() -> None:
    """Feedback users gave on answers in the app."""


@feedback_group.command("export")
@click.option("--csv", "as_csv", is_flag=True, default=True, help="Write CSV (the only format).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
@click.pass_obj
def feedback_export_cmd(settings: Settings, as_csv: bool, output: Path | None) -> None:
    """Export all feedback as CSV for governance review; quotes are re-verified first."""
    from rag.ui.feedback import FeedbackStore

    try:
        feedback = FeedbackStore.from_settings(settings)
        assistant = _assistant(settings)
    except RagError as exc:
        _fail(str(exc))
    texts: dict[str, str | None] = {}

    def document_text(doc_id: str) -> str | None:
        if doc_id not in texts:
            try:
                text = assistant.document_text(doc_id)
            except RagError:
                text = ""
            texts[doc_id] = text or None
        return texts[doc_id]

    try:
        if output:
            output.parent.mkdir(parents=True, exist_ok=True)
            with output.open("w", encoding="utf-8", newline="") as fh:
                n = feedback.export_csv(fh, document_text)
        else:
            n = feedback.export_csv(sys.stdout, document_text)
    except RagError as exc:
        _fail(str(exc))
    unverifiable = sorted(i for i, t in texts.items() if t is None)
    if unverifiable:
        click.echo(
            f"warning: not in the index, quotes withheld: {', '.join(unverifiable)}", err=True
        )
    click.echo(f"exported {n} feedback rows" + (f" to {output}" if output else ""), err=True)


@cli.command("briefing")
@click.argument("topic")
@click.option("--review", multiple=True, help="Only quote this review, by its name (repeatable)")
@click.option("--agency", default=None, help="Agency focus, e.g. 'health visitors'.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "docx", "html"]),
    default=None,
    help="Output format; default: from the -o file's suffix, else md.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@click.pass_obj
def briefing_cmd(settings, topic, review, agency, fmt, output) -> None:
    """Build a cited 7-minute briefing on TOPIC from verified quotes, as md, docx or html."""
    from rag.trainer.service import FORMATS, Trainer

    suffix = output.suffix.lower().lstrip(".") if output else ""
    fmt = fmt or ({"markdown": "md", "htm": "html"}.get(suffix, suffix) if suffix else "md")
    if fmt not in FORMATS:
        _fail(f"cannot tell the format from {output}; add --format md|docx|html")
    if fmt == "docx" and output is None:
        _fail("a Word briefing needs a file: add -o FILE.docx")
    try:
        trainer = Trainer(_assistant(settings))
        known = trainer.reviews()
        unknown = [r for r in review if r not in known]
        if unknown:
            _fail(f"no such review: {', '.join(unknown)}; known: {', '.join(known)}")
        result = trainer.briefing(topic, reviews=review, agency=agency)
        data = trainer.export(result, fmt)
    except RagError as exc:
        _fail(str(exc))
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    else:
        sys.stdout.write(data.decode("utf-8"))
    if result.notice:
        click.echo(f"note: {result.notice}", err=True)
    where = f" to {output}" if output else ""
    click.echo(
        f"briefing on “{result.topic}”: {len(result.items)} verified quotes from "
        f"{len(result.sources)} passages of {len(result.reviews)} reviews{where}",
        err=True,
    )


def main() -> None:
    """Entry point of the `rag` console script."""
    cli()


if __name__ == "__main__":
    main()
