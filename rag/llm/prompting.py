"""Prompts for the optional LLM answer: the passages numbered, and the calls to make.

Prompts live in rag/data/prompts/<name>.md; the model is asked in one of two ways
(settings.llm_prompting): every passage numbered [1]..[k] in one prompt, or one passage at a
time. rag.llm.synthesis checks what comes back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from rag.answer.gates import supported
from rag.core.models import Hit
from rag.core.resources import read_text
from rag.core.settings import Settings
from rag.llm.chat import ChatModel, PromptTemplate, chat_prompt, continues_text
from rag.llm.claims import Passage

_SECTION = re.compile(r"<!--\s*(system|user|answer)\s*-->")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Line breaks inside a paragraph (hard-wrapped text), not before a list item or a blank line.
_WRAP = re.compile(r"(?<=\S)[ \t]*\n(?![ \t]*(?:\n|[-*#\u2022]|\(?[a-z0-9]{1,2}[.)]\s))[ \t]*")


@dataclass(frozen=True)
class Request:
    """One call to the model: its messages, and what checking its reply needs."""

    messages: tuple
    # The prompt's own wording without the passage texts: a reply repeating it is an echo.
    prompt: str
    # The answer's opening words, which a base model is given to continue ("" for none).
    start: str = ""
    # Asked about one passage: its number, the citation of every sentence of the reply.
    passage: int | None = None
    # Where a base model's reply ends (it would go on to invent the next question).
    stop: tuple[str, ...] = ()
    # Most tokens for this call: one passage's share of settings.llm_max_tokens.
    max_tokens: int | None = None


@cache
def load_prompt(name: str) -> PromptTemplate:
    """rag/data/prompts/<name>.md as a chat prompt.

    Sections: `<!-- system -->`, `<!-- user -->` and, optionally, `<!-- answer -->` (the
    answer's opening words); other comments are notes.
    """
    text = read_text(f"prompts/{name}.md")
    parts = _SECTION.split(text)
    sections = {parts[i]: _COMMENT.sub("", parts[i + 1]).strip() for i in range(1, len(parts), 2)}
    roles = (("system", "system"), ("user", "human"), ("answer", "ai"))
    return chat_prompt([(role, sections[key]) for key, role in roles if sections.get(key)])


def number_passages(
    hits: Sequence[Hit], settings: Settings, k: int | None = None, across: bool = False
) -> list[Passage]:
    """The passages given to the model: those the extractive answer would quote, at most k."""
    # The extractive answer's own choice of passages, widened to k, so both modes agree.
    wider = settings.model_copy(update={"top_k": k or settings.llm_passages})
    good = supported(hits, wider, across)
    return [Passage(i + 1, h) for i, h in enumerate(good)]


def format_passages(passages: Sequence[Passage]) -> str:
    """The numbered passages as the prompt shows them."""
    return "\n\n".join(f"[{p.n}] {p.heading}\n{p.hit.chunk.text.strip()}" for p in passages)


def passage_text(passage: Passage) -> str:
    """A passage as a one-passage prompt shows it: hard-wrapped lines joined, so a model
    copying it does not stop at a line end mid-sentence (the checks fold whitespace anyway)."""
    return _WRAP.sub(" ", passage.hit.chunk.text.strip())


def prompting(model: ChatModel, settings: Settings) -> str:
    """How to ask the model, "numbered" or "per-passage"; auto is decided by the model."""
    if settings.llm_prompting != "auto":
        return settings.llm_prompting
    return "per-passage" if continues_text(model) else "numbered"


def requests(
    question: str, passages: Sequence[Passage], model: ChatModel, settings: Settings
) -> list[Request]:
    """The calls to make: one over all numbered passages, or one per passage."""
    if prompting(model, settings) == "numbered":
        messages = load_prompt("answer").format_messages(
            passages=format_passages(passages), question=question
        )
        prompt = "\n".join(str(m.content) for m in messages)
        for p in passages:
            prompt = prompt.replace(p.hit.chunk.text.strip(), "\n")
        return [Request(tuple(messages), prompt)]
    out = []
    base = continues_text(model)
    # The answer's token budget is shared by its calls, so one reply cannot ramble on (Gemma
    # repeated itself for up to 34 sentences in one 400-token line).
    share = max(1, settings.llm_max_tokens // len(passages))
    for p in passages:
        text = passage_text(p)
        messages = load_prompt("answer_passage").format_messages(
            passage=f"{p.heading}\n{text}", question=question
        )
        start = str(messages[-1].content) if messages[-1].type == "ai" else ""
        if start and not base:
            # A chat model would take the opening words as a finished turn of its own.
            messages, start = messages[:-1], ""
        prompt = "\n".join(str(m.content) for m in messages).replace(text, "\n")
        stop = ("\n",) if base else ()
        out.append(Request(tuple(messages), prompt, start, p.n, stop, share))
    return out
