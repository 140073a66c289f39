"""Optional LLM answers: numbered passages in, and only sentences whose citations check out, out.

After generation every sentence is checked in code: its citation numbers must name passages
that were given, every double-quoted span must be verbatim (rag.verify's normalisation) in a
passage it cites, and its content words must mostly occur in the cited passages. Sentences that
fail are removed or visibly flagged, and counted; if too little survives, the extractive answer
is returned instead.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from rag.answer import review_name, sentence_spans, supported
from rag.claims import (
    QUOTE,
    Passage,
    SentenceCheck,
    check_sentence,
    content_words,
    parse_markers,
    split_sentences,
    strip_markers,
)
from rag.llm import generate, stream
from rag.models import Answer, Citation, Hit, Quote
from rag.settings import Settings
from rag.verify import display, locate, normalise

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
FLAG = "NOT VERIFIED:"


@dataclass(frozen=True)
class Synthesis:
    """The answer to show, plus every sentence check and the raw generation, for audit."""

    answer: Answer
    checks: tuple[SentenceCheck, ...]
    raw: str
    fell_back: bool


@cache
def load_prompt(name: str) -> ChatPromptTemplate:
    """prompts/<name>.md as a chat prompt: the part after `<!-- user -->` is the human turn."""
    text = (PROMPTS / f"{name}.md").read_text(encoding="utf-8")
    system, _, user = text.partition("<!-- user -->")
    system = system.replace("<!-- system -->", "").strip()
    return ChatPromptTemplate.from_messages([("system", system), ("human", user.strip())])


def number_passages(hits: Sequence[Hit], settings: Settings, k: int | None = None) -> list[Passage]:
    """The passages given to the model: those the extractive answer would quote, at most k."""
    # The extractive answer's own choice of passages, widened to k, so both modes agree.
    good = supported(hits, settings.model_copy(update={"top_k": k or settings.llm_passages}))
    return [Passage(i + 1, h) for i, h in enumerate(good)]


def format_passages(passages: Sequence[Passage]) -> str:
    """The numbered passages as the prompt shows them."""
    blocks = []
    for p in passages:
        name = review_name(p.hit.meta).removeprefix("the ")
        head = f"[{p.n}] {name[:1].upper()}{name[1:]} - {p.hit.chunk.section}"
        blocks.append(f"{head}\n{p.hit.chunk.text.strip()}")
    return "\n\n".join(blocks)


def _evidence(passage: Passage, claim: str, doc_text: str) -> tuple[int, int]:
    # The passage's sentence sharing most content words with the claim is the shown evidence.
    c = passage.hit.chunk
    spans = sentence_spans(doc_text, c.start, c.end)
    if not spans:
        lead = len(doc_text[c.start : c.end]) - len(doc_text[c.start : c.end].lstrip())
        return c.start + lead, c.start + len(doc_text[c.start : c.end].rstrip())
    want = set(content_words(claim))
    return max(
        ((s.start, s.end) for s in spans),
        key=lambda se: len(want & set(content_words(doc_text[se[0] : se[1]]))),
    )


def _place_markers(body: str, numbers: Sequence[int]) -> str:
    tag = "".join(f"[{n}]" for n in numbers)
    if body and body[-1] in ".!?":
        return f"{body[:-1]} {tag}{body[-1]}"
    return f"{body} {tag}"


def _assemble(
    checks: Sequence[tuple[SentenceCheck, dict[str, Passage]]],
    passages: Sequence[Passage],
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
) -> tuple[list[str], list[Citation]]:
    """The shown sentences, with markers renumbered to the verified citations they point at."""
    by_n = {p.n: p for p in passages}
    citations: list[Citation] = []
    index: dict[tuple[str, int, int], int] = {}

    def cite(passage: Passage, start: int, end: int, doc_text: str, says: str = "") -> int | None:
        key = (passage.hit.chunk.document, start, end)
        if says and normalise(doc_text[start:end]) != normalise(says):
            return None  # the chunk's offsets do not match the stored document
        if key not in index:
            quote = Quote(key[0], doc_text[start:end], start, end)
            if not verify(quote):
                return None
            citations.append(
                Citation(len(citations) + 1, quote, passage.hit, passage.hit.chunk.page)
            )
            index[key] = len(citations)
        return index[key]

    shown: list[str] = []
    for check, found in checks:
        body = strip_markers(check.text)
        if not check.kept:
            if settings.llm_unsupported == "flag":
                shown.append(f"{FLAG} {body.replace(chr(34), '')}")
            continue
        numbers: list[int] = []
        for q, passage in found.items():
            chunk = passage.hit.chunk
            doc_text = documents(chunk.document)
            a, b = locate(q, chunk.text) or (0, 0)
            n = cite(passage, chunk.start + a, chunk.start + b, doc_text, says=q)
            if n is None:
                numbers = []
                break
            # Show the document's own words for the quote, not the model's copy of them.
            body = body.replace(
                f'"{q}"', f'"{display(doc_text[chunk.start + a : chunk.start + b])}"'
            )
            numbers.append(n)
        else:
            for pn in check.supported:
                if any(p.n == pn for p in found.values()):
                    continue
                doc_text = documents(by_n[pn].hit.chunk.document)
                start, end = _evidence(by_n[pn], QUOTE.sub(" ", body), doc_text)
                n = cite(by_n[pn], start, end, doc_text)
                if n is not None:
                    numbers.append(n)
        if numbers:
            shown.append(_place_markers(body, list(dict.fromkeys(numbers))))
        elif settings.llm_unsupported == "flag":
            shown.append(f"{FLAG} {body.replace(chr(34), '')}")
    return shown, citations


_NOTE = (
    "Checked against the cited passages: {kept} of {total} generated sentences kept, "
    "{dropped} removed, {flagged} flagged; {cit_ok} of {cit_total} citations supported "
    "({in_range} of {markers} citation numbers in range); {q_ok} of {q_total} quotations "
    "verbatim (unquoted copies of a passage included)."
)
_NOTE_RE = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>\\d+)", re.escape(_NOTE)))
FALLBACK_NOTE = (
    "The language model's answer did not pass verification, so the verified extractive "
    "answer is shown instead."
)


def _counts(checks: Sequence[SentenceCheck], shown: Sequence[str]) -> dict[str, int]:
    flagged = sum(s.startswith(FLAG) for s in shown)
    kept = len(shown) - flagged
    return {
        "kept": kept,
        "total": len(checks),
        "dropped": len(checks) - kept - flagged,
        "flagged": flagged,
        "cit_ok": sum(len(c.supported) for c in checks),
        "cit_total": sum(len(c.markers) for c in checks),
        "in_range": sum(len([n for n in c.markers if n in c.in_range]) for c in checks),
        "markers": sum(len(c.markers) for c in checks),
        "q_ok": sum(c.verbatim for c in checks),
        "q_total": sum(c.quotations for c in checks),
    }


def verify_generation(
    raw: str,
    passages: Sequence[Passage],
    fallback: Answer,
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
    prompt: str = "",
) -> Synthesis:
    """Check a generated answer sentence by sentence; the Answer holds only what passed."""
    checked = [check_sentence(s, passages, settings, prompt) for s in split_sentences(raw)]
    shown, citations = _assemble(checked, passages, documents, verify, settings)
    checks = tuple(c for c, _ in checked)
    counts = _counts(checks, shown)
    note = _NOTE.format(**counts)
    enough = counts["total"] and counts["kept"] / counts["total"] >= settings.llm_min_kept
    if not citations or not counts["kept"] or not enough:
        answer = dataclasses.replace(fallback, notes=(*fallback.notes, FALLBACK_NOTE, note))
        return Synthesis(answer, checks, raw, True)
    answer = Answer(
        fallback.question,
        " ".join(shown),
        False,
        tuple(citations),
        fallback.id,
        mode="llm",
        notes=(*fallback.notes, note),
    )
    return Synthesis(answer, checks, raw, False)


def synthesise(
    question: str,
    hits: Sequence[Hit],
    fallback: Answer,
    model: BaseChatModel,
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
    k: int | None = None,
) -> Synthesis:
    """Ask the model over numbered passages, then keep only the sentences that verify."""
    passages = number_passages(hits, settings, k)
    if fallback.abstained or not passages:
        return Synthesis(fallback, (), "", True)
    messages, prompt = _messages(question, passages)
    raw = generate(model, messages)
    return verify_generation(raw, passages, fallback, documents, verify, settings, prompt)


def _messages(question: str, passages: Sequence[Passage]) -> tuple[list, str]:
    """The chat messages, and the prompt's own wording without the passages (to spot echoes)."""
    messages = load_prompt("answer").format_messages(
        passages=format_passages(passages), question=question
    )
    prompt = "\n".join(str(m.content) for m in messages)
    for p in passages:
        prompt = prompt.replace(p.hit.chunk.text.strip(), "\n")
    return messages, prompt


def stream_synthesis(
    question: str,
    hits: Sequence[Hit],
    fallback: Answer,
    model: BaseChatModel,
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
    k: int | None = None,
) -> Iterator[SentenceCheck | Synthesis]:
    """As synthesise, for a UI that streams: each generated sentence's check as soon as the
    sentence is complete (still unverified text until then), and last the Synthesis itself,
    whose answer is the only thing to show as verified."""
    passages = number_passages(hits, settings, k)
    if fallback.abstained or not passages:
        yield Synthesis(fallback, (), "", True)
        return
    messages, prompt = _messages(question, passages)
    raw, done = "", 0
    for piece in stream(model, messages):
        raw += piece
        # Every sentence but the last is complete: a later one has begun.
        complete = split_sentences(raw)[:-1]
        for sentence in complete[done:]:
            yield check_sentence(sentence, passages, settings, prompt)[0]
        done = max(done, len(complete))
    yield verify_generation(raw, passages, fallback, documents, verify, settings, prompt)


def evaluate_llm_answer(answer: Answer) -> dict:
    """Counts for the evaluation harness, to be summed over questions.

    ALCE-style, with the code checks standing in for an entailment model: citation recall is
    sentences_kept / sentences_total (sentences supported by the passages they cite), citation
    precision is citations_supported / citations_total (each written citation number, counted
    as supporting when its passage alone supports the sentence), and quote fidelity is
    shown_quotes_verbatim / shown_quotes, re-checked here on what the answer shows."""
    out = {
        "mode": answer.mode,
        "abstained": answer.abstained,
        "fallback": FALLBACK_NOTE in answer.notes,
    }
    m = next((m for n in answer.notes if (m := _NOTE_RE.search(n))), None)
    c = {k: int(v) for k, v in m.groupdict().items()} if m else dict.fromkeys(_NOTE_KEYS, 0)
    out |= {
        "sentences_total": c["total"],
        "sentences_kept": c["kept"],
        "sentences_dropped": c["dropped"],
        "sentences_flagged": c["flagged"],
        "sentences_shown": 0 if out["fallback"] else c["kept"],
        "citations_total": c["cit_total"],
        "citations_supported": c["cit_ok"],
        "citation_numbers_in_range": c["in_range"],
        "quotes_generated": c["q_total"],
        "quotes_verbatim": c["q_ok"],
    }
    shown_quotes = shown_ok = cited = uncited = 0
    by_n = {cit.n: cit for cit in answer.citations}
    for cit in answer.citations:
        shown_quotes += 1
        shown_ok += bool(normalise(cit.quote.text)) and normalise(cit.quote.text) in normalise(
            cit.hit.chunk.text
        )
    if answer.mode == "llm":
        for sentence in split_sentences(answer.text):
            if sentence.startswith(FLAG):
                continue
            refs = [by_n.get(n) for n in parse_markers(sentence)]
            good = bool(refs) and all(refs)
            for q in QUOTE.findall(strip_markers(sentence)):
                shown_quotes += 1
                ok = any(r and normalise(q) in normalise(r.quote.text) for r in refs)
                shown_ok += ok
                good = good and ok
            cited += good
            uncited += not good
    out |= {
        "shown_sentences_cited": cited,
        "shown_sentences_uncited": uncited,
        "shown_quotes": shown_quotes,
        "shown_quotes_verbatim": shown_ok,
    }
    return out


_NOTE_KEYS = tuple(re.findall(r"\{(\w+)\}", _NOTE))
