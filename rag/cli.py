"""The `rag` command: a thin edge that turns domain errors into messages and exit codes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from rag.errors import RagError
from rag.models import Answer, Filters
from rag.settings import Settings
from rag.verify import display


def _pipeline(settings: Settings):
    # Imported late so `rag --help` does not pay for loading torch.
    from rag.pipeline import Pipeline

    # bm25s sets its own logger to DEBUG when imported; keep stderr for real problems.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return Pipeline(settings)


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
    """Index review files (default: the corpus folder); unchanged documents are not rewritten."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    try:
        report = _pipeline(settings).ingest(paths or None)
    except RagError as exc:
        _fail(str(exc))
    s = report.sync
    click.echo(
        f"documents: {report.documents}  chunks: {report.chunks}  "
        f"skipped: {len(report.failures)}  errors: {len(report.failures)}"
    )
    for label, ids in (
        ("ingested", s.added),
        ("replaced", s.replaced),
        ("unchanged", s.unchanged),
        ("removed", s.removed),
    ):
        click.echo(f"  {label:<10} {len(ids):>4}  {', '.join(ids)}".rstrip())
    for failure in report.failures:
        click.echo(
            f"  skipped    {failure.path}: {failure.reason}"
            + (f" ({failure.detail})" if failure.detail else "")
        )
    click.echo(f"index: {s.chunks_total} chunks ({s.chunks_embedded} embedded this run)")
    if report.failures and not keep_going:
        sys.exit(1)


def _questions(batch: Path) -> Iterator[tuple[str | None, str]]:
    for line in batch.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            obj = json.loads(line)
            yield (str(obj["id"]) if "id" in obj else None), obj.get("question", "")
        else:
            yield None, line


def _print_answer(answer: Answer) -> None:
    click.echo(answer.text)
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        page = f", p. {c.page}" if c.page else ""
        partnership = f" ({c.hit.meta.partnership})" if c.hit.meta.partnership else ""
        click.echo(f"  [{c.n}] {c.hit.meta.title}{partnership} — {c.hit.chunk.section}{page}")
        click.echo(f'      "{display(c.quote.text)}"')


@cli.command("ask")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
@click.option("--k", type=click.IntRange(1, 10), default=None, help="Most passages to quote.")
@click.option("--document", multiple=True, help="Only cite this document id (repeatable).")
@click.option("--partnership", multiple=True, help="Only cite this partnership (repeatable).")
@click.option("--review", multiple=True, help="Only cite this review (repeatable).")
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of questions: one per line, or JSONL objects with `question` and optional `id`.",
)
@click.pass_obj
def ask_cmd(settings, question, as_json, k, document, partnership, review, batch) -> None:
    """Answer a question with verbatim quotes from the reviews, each with a citation."""
    if (question is None) == (batch is None):
        _fail("give a question, or --batch FILE (not both)")
    filters = Filters(documents=document, partnerships=partnership, reviews=review)
    items = list(_questions(batch)) if batch else [(None, question)]
    try:
        pipe = _pipeline(settings)
        pipe.retriever  # noqa: B018 - fail fast with the missing-index message
    except RagError as exc:
        _fail(str(exc))
    failed = 0
    for qid, q in items:
        try:
            answer = pipe.ask(q, filters, k=k, answer_id=qid)
        except RagError as exc:
            failed += 1
            if not batch:
                _fail(str(exc))
            err = {"id": qid} if qid is not None else {}
            click.echo(json.dumps(err | {"question": q, "error": str(exc)}, ensure_ascii=False))
            continue
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            _print_answer(answer)
    if failed:
        sys.exit(1)


def main() -> None:
    """Entry point of the `rag` console script."""
    cli()


if __name__ == "__main__":
    main()
