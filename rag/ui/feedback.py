"""User feedback on answers: a local SQLite file, exported as CSV for governance review.

A question (or comment) that appears to hold personal details is never written: the row keeps
the rating, the answer and its citations, and marks the text as withheld.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from rag.answer.verify import display, verify_quote
from rag.core.errors import FeedbackError
from rag.core.models import Answer, Quote
from rag.core.settings import Settings
from rag.understand.privacy import has_personal_details

RATINGS = ("up", "down")
REASONS = (
    "wrong citation",
    "quote doesn't support the answer",
    "missing information",
    "other",
)
WITHHELD = "[withheld: appeared to contain personal details]"
UNVERIFIED = "[not exported: no longer a verbatim span of the indexed document]"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    reason TEXT,
    comment TEXT,
    comment_withheld INTEGER NOT NULL DEFAULT 0,
    question TEXT,
    asked_as TEXT,
    question_withheld INTEGER NOT NULL DEFAULT 0,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL
)
"""
CSV_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "rating",
    "reason",
    "comment",
    "question",
    "asked_as",
    "question_withheld",
    "abstained",
    "answer",
    "cited_documents",
    "cited_sections",
    "cited_quotes",
)


@dataclass(frozen=True)
class Saved:
    """The outcome of saving feedback: the row id, and which texts were withheld."""

    id: int
    question_withheld: bool = False
    comment_withheld: bool = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _citations_json(answer: Answer) -> str:
    return json.dumps(
        [
            {
                "n": c.n,
                "document": c.quote.document,
                "title": c.hit.meta.title,
                "section": c.hit.chunk.section,
                "page": c.page,
                "quote": c.quote.text,
                "start": c.quote.start,
                "end": c.quote.end,
            }
            for c in answer.citations
        ],
        ensure_ascii=False,
    )


def _check_reason(rating: str | None, reason: str | None) -> None:
    if rating is not None and rating not in RATINGS:
        raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    if reason is not None and reason not in REASONS:
        raise FeedbackError(f"reason must be one of: {'; '.join(REASONS)}")


class FeedbackStore:
    """Feedback rows in one SQLite file; each call opens and closes its own connection."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        """The store at settings.feedback_db, refused when it sits inside the vector store."""
        path = settings.feedback_db.resolve()
        if path.is_relative_to(settings.vectorstore_dir.resolve()):
            raise FeedbackError(
                f"the feedback file {settings.feedback_db} is inside the vector store folder "
                f"{settings.vectorstore_dir}; set RAG_FEEDBACK_DB to a path outside it"
            )
        return cls(settings.feedback_db)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10)) as conn:
                conn.row_factory = sqlite3.Row
                with conn:
                    conn.execute(_SCHEMA)
                    yield conn
        except (sqlite3.Error, OSError) as exc:
            raise FeedbackError(f"could not use the feedback file {self.path}: {exc}") from exc

    def record(
        self,
        answer: Answer,
        rating: str,
        question: str | None = None,
        reason: str | None = None,
        comment: str | None = None,
    ) -> Saved:
        """Save a rating on an answer; `question` is the text as the user typed it."""
        _check_reason(rating, reason)
        typed = answer.question if question is None else question
        private = has_personal_details(typed) or has_personal_details(answer.question)
        comment_private = bool(comment) and has_personal_details(comment)
        now = _now()
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, updated_at, rating, reason, comment, "
                "comment_withheld, question, asked_as, question_withheld, answer, abstained, "
                "citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    now,
                    rating,
                    reason,
                    None if comment_private else (comment or None),
                    int(comment_private),
                    None if private else typed,
                    None if private else answer.question,
                    int(private),
                    answer.text,
                    int(answer.abstained),
                    _citations_json(answer),
                ),
            )
            return Saved(int(cur.lastrowid), private, comment_private)

    def update(
        self,
        row_id: int,
        rating: str | None = None,
        reason: str | None = None,
        comment: str | None = None,
    ) -> Saved:
        """Change the rating, or add a reason and comment, on a saved row; None keeps a field."""
        _check_reason(rating, reason)
        comment_private = bool(comment) and has_personal_details(comment)
        with self._connect() as conn:
            row = conn.execute(
                "SELECT question_withheld, comment_withheld FROM feedback WHERE id = ?", (row_id,)
            ).fetchone()
            if row is None:
                raise FeedbackError(f"no feedback row {row_id}")
            conn.execute(
                "UPDATE feedback SET rating = COALESCE(?, rating), reason = COALESCE(?, reason), "
                "updated_at = ? WHERE id = ?",
                (rating, reason, _now(), row_id),
            )
            if comment:
                conn.execute(
                    "UPDATE feedback SET comment = ?, comment_withheld = ? WHERE id = ?",
                    (None if comment_private else comment, int(comment_private), row_id),
                )
        withheld = comment_private if comment else bool(row["comment_withheld"])
        return Saved(row_id, bool(row["question_withheld"]), withheld)

    def rows(self) -> list[dict]:
        """Every feedback row, oldest first, citations decoded."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        return [dict(r) | {"citations": json.loads(r["citations"])} for r in rows]

    def export_csv(self, out: TextIO, documents: Callable[[str], str | None]) -> int:
        """Write every row as CSV; quotes are re-verified against `documents` (id -> text).

        A quote that is no longer verbatim in the indexed document is replaced by a notice,
        so the export never carries an unverified quote. Returns the number of rows written.
        """
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        rows = self.rows()
        for row in rows:
            writer.writerow(_csv_row(row, documents))
        return len(rows)


def _csv_row(row: dict, documents: Callable[[str], str | None]) -> dict:
    docs, sections, quotes = [], [], []
    for c in row["citations"]:
        text = documents(c["document"])
        quote = Quote(c["document"], c["quote"], c["start"], c["end"])
        ok = text is not None and verify_quote(quote, {c["document"]: text})
        shown = f'"{display(c["quote"])}"' if ok else UNVERIFIED
        docs.append(f"[{c['n']}] {c['document']}")
        sections.append(f"[{c['n']}] {c['section']}" + (f", p. {c['page']}" if c["page"] else ""))
        quotes.append(f"[{c['n']}] {shown}")
    # The stored answer repeats its quotes; only its lead-in is exported, beside checked quotes.
    lead = row["answer"].split("\n\n", 1)[0]
    return {
        "id": row["id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "rating": row["rating"],
        "reason": row["reason"] or "",
        "comment": WITHHELD if row["comment_withheld"] else (row["comment"] or ""),
        "question": WITHHELD if row["question_withheld"] else (row["question"] or ""),
        "asked_as": WITHHELD if row["question_withheld"] else (row["asked_as"] or ""),
        "question_withheld": "yes" if row["question_withheld"] else "no",
        "abstained": "yes" if row["abstained"] else "no",
        "answer": lead,
        "cited_documents": "\n".join(docs),
        "cited_sections": "\n".join(sections),
        "cited_quotes": "\n".join(quotes),
    }
