"""A chat turn as the service receives it: the question checked, its personal details found,
and a follow-up resolved against the conversation."""

from __future__ import annotations

from dataclasses import dataclass

from rag.core.errors import InvalidQuestion
from rag.core.settings import Settings
from rag.understand import privacy
from rag.understand.followup import Resolved


@dataclass(frozen=True)
class Turn:
    """One chat turn before it is answered: the question as typed, the personal details found
    in it, and what is asked once they are removed and a follow-up is resolved."""

    question: str
    resolved: Resolved
    findings: tuple[privacy.Finding, ...] = ()


def check_question(question: str, settings: Settings) -> str:
    """The question stripped, or InvalidQuestion when it is empty or too long."""
    q = (question or "").strip()
    if not q:
        raise InvalidQuestion("the question is empty: type a question about the reviews")
    if len(q) > settings.max_question_chars:
        raise InvalidQuestion(
            f"the question is {len(q):,} characters; the limit is "
            f"{settings.max_question_chars:,}. Shorten it to the point you want answered."
        )
    return q
