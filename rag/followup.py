"""LLM helpers around answering: standalone follow-up questions and reflective questions.

Both degrade rather than fail: an unreachable model gives back the question as typed, or no
reflective questions, and generated text is checked before use like any other LLM output.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel

from rag.claims import QUOTE, parse_markers, split_sentences, strip_markers
from rag.errors import LLMUnavailable
from rag.llm import complete, continues_text, generate
from rag.models import Hit
from rag.prompting import format_passages, load_prompt, number_passages
from rag.settings import Settings
from rag.verify import locate, normalise

log = logging.getLogger(__name__)

_TURNS = 3
_ANSWER_CHARS = 600
_LONGEST = 500
_LABEL = re.compile(r"^\s*(?:standalone question|question|rewritten question)\s*:\s*", re.I)


def _turn(item: Any) -> tuple[str, str]:
    """(question, answer text) from a pair or from a conversation exchange object."""
    if isinstance(item, tuple | list):
        q, a = item[0], item[1]
        return str(q), str(getattr(a, "text", a) or "")
    resolved = getattr(item, "resolved", None)
    q = getattr(resolved, "query", None) or getattr(item, "question", "")
    answer = getattr(item, "answer", None)
    return str(q), str(getattr(answer, "text", answer) or "")


def format_history(history: Sequence[Any]) -> str:
    """The last few turns as the rewrite prompt shows them."""
    lines = []
    for item in list(history)[-_TURNS:]:
        q, a = _turn(item)
        a = " ".join(a.split())
        a = a if len(a) <= _ANSWER_CHARS else a[:_ANSWER_CHARS].rsplit(" ", 1)[0] + " ..."
        lines.append(f"User: {q}\nAssistant: {a}" if a else f"User: {q}")
    return "\n\n".join(lines)


def rewrite_followup(history: Sequence[Any], question: str, model: BaseChatModel | None) -> str:
    """A standalone version of a follow-up question, or the question itself when not needed,
    when the model is unavailable, or when its reply is not one question (empty, too long, no
    question mark, or an echo of the prompt).

    `history` holds earlier turns, oldest first, as (question, answer) pairs or as
    conversation exchanges (with `.resolved.query` and `.answer.text`)."""
    if model is None or not history or not question.strip():
        return question
    messages = load_prompt("rewrite").format_messages(
        history=format_history(history), question=question.strip()
    )
    try:
        # Only the first line is used; a base model would otherwise write on to its token limit.
        raw = complete(model, messages, ["\n"] if continues_text(model) else None).text
    except LLMUnavailable as exc:
        log.warning("follow-up not rewritten: %s", exc)
        return question
    line = next((ln for ln in raw.splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip("\"'*` ").strip()
    prompt = normalise("\n".join(str(m.content) for m in messages))
    echo = normalise(line) in prompt and normalise(line) != normalise(question)
    asks = line.endswith("?") or not question.strip().endswith("?")
    if not re.search(r"[A-Za-z]", line) or len(line) > _LONGEST or echo or not asks:
        return question
    return line


@dataclass(frozen=True)
class ReflectiveQuestion:
    """A generated discussion question and the passages it draws on (cited and checked)."""

    text: str
    hits: tuple[Hit, ...]


def reflective_questions(
    hits: Sequence[Hit], topic: str, model: BaseChatModel, settings: Settings, count: int = 3
) -> list[ReflectiveQuestion]:
    """Up to `count` reflective questions for a briefing; each cites a given passage, and any
    quotation in it is verbatim in a passage it cites. Empty when the model is unavailable."""
    passages = number_passages(hits, settings)
    if not passages:
        return []
    messages = load_prompt("reflective").format_messages(
        passages=format_passages(passages), topic=topic, count=count
    )
    try:
        raw = generate(model, messages)
    except LLMUnavailable as exc:
        log.warning("no reflective questions: %s", exc)
        return []
    by_n = {p.n: p.hit for p in passages}
    out: list[ReflectiveQuestion] = []
    for sentence in split_sentences(raw):
        cited = tuple(dict.fromkeys(by_n[n] for n in parse_markers(sentence) if n in by_n))
        text = strip_markers(sentence)
        quotes_ok = all(
            any(locate(q, h.chunk.text) for h in cited) for q in QUOTE.findall(text) if q.strip()
        )
        if cited and quotes_ok and text.count('"') % 2 == 0 and text.rstrip().endswith("?"):
            out.append(ReflectiveQuestion(text, cited))
    return out[:count]
