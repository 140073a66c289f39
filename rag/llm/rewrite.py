"""A follow-up question rewritten as a standalone one by the configured language model.

Both degrade rather than fail: an unreachable model gives back the question as typed, or no
reflective questions, and generated text is checked before use like any other LLM output.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from rag.answer.verify import normalise
from rag.core.errors import LLMUnavailable
from rag.core.settings import Settings
from rag.llm.chat import ChatModel, complete, continues_text
from rag.llm.prompting import load_prompt

log = logging.getLogger(__name__)

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


def format_history(history: Sequence[Any], settings: Settings) -> str:
    """The last few turns as the rewrite prompt shows them."""
    lines, cut = [], settings.llm_rewrite_answer_chars
    for item in list(history)[-settings.llm_rewrite_turns :]:
        q, a = _turn(item)
        a = " ".join(a.split())
        a = a if len(a) <= cut else a[:cut].rsplit(" ", 1)[0] + " ..."
        lines.append(f"User: {q}\nAssistant: {a}" if a else f"User: {q}")
    return "\n\n".join(lines)


def rewrite_followup(
    history: Sequence[Any], question: str, model: ChatModel | None, settings: Settings
) -> str:
    """A standalone version of a follow-up question, or the question itself when not needed,
    when the model is unavailable, or when its reply is not one question (empty, too long, no
    question mark, or an echo of the prompt).

    `history` holds earlier turns, oldest first, as (question, answer) pairs or as
    conversation exchanges (with `.resolved.query` and `.answer.text`)."""
    if model is None or not history or not question.strip():
        return question
    messages = load_prompt("rewrite").format_messages(
        history=format_history(history, settings), question=question.strip()
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
    if (
        not re.search(r"[A-Za-z]", line)
        or len(line) > settings.llm_rewrite_longest
        or echo
        or not asks
    ):
        return question
    return line
