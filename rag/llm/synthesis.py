"""Optional LLM answers: passages in, and only sentences whose citations check out, out.

The model is asked in one of two ways (rag.llm.prompting): with every passage numbered [1]..[k] in
one prompt, citing them itself, or about one passage at a time, each reply cited by the passage
it was given. Either way every sentence is then checked in code (rag.llm.claims): its
citation numbers name passages that were given, every double-quoted span is verbatim
(rag.answer.verify's normalisation) in a passage it cites, and its words are grounded there.
Sentences that fail are removed or visibly flagged, and counted; if too little survives, the
extractive answer is returned instead.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from rag.answer.verify import display, locate, normalise
from rag.core.models import Answer, Citation, Hit, Quote
from rag.core.settings import Settings
from rag.llm.chat import ChatModel, complete, stream
from rag.llm.claims import (
    QUOTE,
    Passage,
    SentenceCheck,
    check_sentence,
    parse_markers,
    split_sentences,
    strip_markers,
)
from rag.llm.prompting import Request, number_passages, requests

FLAG = "NOT VERIFIED:"
# A sentence is complete when it ends like one (closing quotes or brackets may follow).
_ENDED = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")


@dataclass(frozen=True)
class Synthesis:
    """The answer to show, plus every sentence check and the raw generation, for audit."""

    answer: Answer
    checks: tuple[SentenceCheck, ...]
    raw: str
    fell_back: bool


def reply_sentences(request: Request, reply: str) -> list[str]:
    """The reply as sentences; asked about one passage, each cited by that passage only."""
    text = request.start + (" " if reply[:1] not in ("", " ", "\n") else "") + reply
    sentences = split_sentences(text) if reply.strip() else []
    if request.passage is not None:
        # Numbers written by a model shown one passage are meaningless; its citation is known.
        sentences = [f"{strip_markers(s)} [{request.passage}]" for s in sentences]
    return sentences


def _place_markers(body: str, numbers: Sequence[int]) -> str:
    tag = "".join(f"[{n}]" for n in numbers)
    if body and body[-1] in ".!?":
        return f"{body[:-1]} {tag}{body[-1]}"
    return f"{body} {tag}"


def _assemble(
    checks: Sequence[tuple[SentenceCheck, dict[str, Passage], bool]],
    passages: Sequence[Passage],
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
) -> tuple[list[str], list[Citation]]:
    """The shown sentences, with markers renumbered to the verified citations they point at."""
    by_n = {p.n: p for p in passages}
    citations: list[Citation] = []
    index: dict[tuple[str, int, int], int] = {}

    def cite(passage: Passage, a: int, b: int, says: str) -> int | None:
        # (a, b) are offsets in the passage's text; the citation holds document offsets.
        chunk = passage.hit.chunk
        doc_text = documents(chunk.document)
        key = (chunk.document, chunk.start + a, chunk.start + b)
        if normalise(doc_text[key[1] : key[2]]) != normalise(says):
            return None  # the chunk's offsets do not match the stored document
        if key not in index:
            quote = Quote(key[0], doc_text[key[1] : key[2]], key[1], key[2])
            if not verify(quote):
                return None
            citations.append(Citation(len(citations) + 1, quote, passage.hit, chunk.page))
            index[key] = len(citations)
        return index[key]

    shown: list[str] = []
    for check, found, show in checks:
        body = strip_markers(check.text)
        numbers: list[int] | None = []
        if check.kept:
            for q, passage in found.items():
                a, b = locate(q, passage.hit.chunk.text) or (0, 0)
                n = cite(passage, a, b, q)
                if n is None:
                    numbers = None
                    break
                # Show the document's own words for the quote, not the model's copy of them.
                body = body.replace(f'"{q}"', f'"{display(citations[n - 1].quote.text)}"')
                numbers.append(n)
            for pn, a, b in check.evidence if numbers is not None else ():
                n = cite(by_n[pn], a, b, by_n[pn].hit.chunk.text[a:b])
                if n is not None:
                    numbers.append(n)
        if not show:
            continue  # a reply left out is left out whole, flagged sentences too
        if check.kept and numbers:
            shown.append(_place_markers(body, list(dict.fromkeys(numbers))))
        elif settings.llm_unsupported == "flag":
            shown.append(f"{FLAG} {body.replace(chr(34), '')}")
    return shown, citations


_NOTE = (
    "Checked against the cited passages: {kept} of {total} generated sentences passed and "
    "{shown} are shown; {dropped} removed and {flagged} flagged because they did not check "
    "out; {cit_ok} of {cit_total} citations supported ({in_range} of {markers} citation "
    "numbers in range); {q_ok} of {q_total} quotations verbatim (unquoted copies of a passage "
    "included)."
)
_NOTE_RE = re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>\\d+)", re.escape(_NOTE)))
_NOTE_KEYS = tuple(re.findall(r"\{(\w+)\}", _NOTE))
FALLBACK_NOTE = (
    "The language model's answer did not pass verification, so the verified extractive "
    "answer is shown instead."
)


def llm_counts(answer: Answer) -> dict[str, int] | None:
    """The verification counts an LLM-mode answer's note carries; None when it has none."""
    m = next((m for n in answer.notes if (m := _NOTE_RE.search(n))), None)
    return {k: int(v) for k, v in m.groupdict().items()} if m else None


def _counts(checks: Sequence[SentenceCheck], shown: Sequence[str]) -> dict[str, int]:
    flagged = sum(s.startswith(FLAG) for s in shown)
    kept = sum(c.kept for c in checks)
    return {
        "kept": kept,
        "total": len(checks),
        "shown": len(shown) - flagged,
        "dropped": len(checks) - kept - flagged,
        "flagged": flagged,
        "cit_ok": sum(len(c.supported) for c in checks),
        "cit_total": sum(len(c.markers) for c in checks),
        "in_range": sum(len([n for n in c.markers if n in c.in_range]) for c in checks),
        "markers": sum(len(c.markers) for c in checks),
        "q_ok": sum(c.verbatim for c in checks),
        "q_total": sum(c.quotations for c in checks),
    }


def _check_all(
    replies: Sequence[tuple[Request, str, bool]], passages: Sequence[Passage], settings: Settings
) -> list[tuple[SentenceCheck, dict[str, Passage], bool]]:
    """Every sentence of every reply checked, with its verbatim quotes and whether to show it.

    Beyond the per-sentence checks: a reply's last sentence that does not end like one (or
    that the token limit cut) is unfinished, a sentence said before is a repeat, and a reply
    of which less than settings.llm_min_kept passed is not shown at all (what is left of it
    may no longer say what the reply said)."""
    out: list[tuple[SentenceCheck, dict[str, Passage], bool]] = []
    seen: set[str] = set()
    for request, reply, truncated in replies:
        group = []
        sentences = reply_sentences(request, reply)
        for i, sentence in enumerate(sentences):
            check, found = check_sentence(sentence, passages, settings, request.prompt)
            said = normalise(strip_markers(sentence)).lower()
            last = i == len(sentences) - 1
            cut = last and (truncated or not _ENDED.search(strip_markers(sentence)))
            if check.kept and (cut or said in seen):
                check = dataclasses.replace(check, kept=False, repeat=said in seen, unfinished=cut)
            seen.add(said)
            group.append((check, found))
        passed = sum(c.kept for c, _ in group)
        show = bool(group) and passed / len(group) >= settings.llm_min_kept
        out += [(c, f, show) for c, f in group]
    return out


def verify_replies(
    replies: Sequence[tuple[Request, str, bool]],
    passages: Sequence[Passage],
    fallback: Answer,
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
) -> Synthesis:
    """Check the model's replies sentence by sentence; the Answer holds only what passed.

    `replies` holds (request, reply text, whether the token limit cut it)."""
    checked = _check_all(replies, passages, settings)
    shown, citations = _assemble(checked, passages, documents, verify, settings)
    checks = tuple(c for c, _, _ in checked)
    counts = _counts(checks, shown)
    note = _NOTE.format(**counts)
    raw = "\n".join(
        (f"[{r.passage}] " if r.passage else "") + r.start + reply for r, reply, _ in replies
    )
    if not citations or not counts["shown"]:
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
    model: ChatModel,
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
    k: int | None = None,
    across: bool = False,
) -> Synthesis:
    """Ask the model about the passages, then keep only the sentences that verify."""
    passages = number_passages(hits, settings, k, across)
    if fallback.abstained or not passages:
        return Synthesis(fallback, (), "", True)
    replies = []
    for request in requests(question, passages, model, settings):
        reply = complete(model, request.messages, list(request.stop) or None, request.max_tokens)
        replies.append((request, reply.text, reply.truncated))
    return verify_replies(replies, passages, fallback, documents, verify, settings)


def stream_synthesis(
    question: str,
    hits: Sequence[Hit],
    fallback: Answer,
    model: ChatModel,
    documents: Callable[[str], str],
    verify: Callable[[Quote], bool],
    settings: Settings,
    k: int | None = None,
    across: bool = False,
) -> Iterator[SentenceCheck | Synthesis]:
    """As synthesise, for a UI that streams: each generated sentence's check as soon as the
    sentence is complete (still unverified text until then), and last the Synthesis itself,
    whose answer is the only thing to show as verified."""
    passages = number_passages(hits, settings, k, across)
    if fallback.abstained or not passages:
        yield Synthesis(fallback, (), "", True)
        return
    replies = []
    for request in requests(question, passages, model, settings):
        reply, done, ending = "", 0, {}
        stop = list(request.stop) or None
        for piece in stream(model, request.messages, stop, ending, request.max_tokens):
            reply += piece
            # Every sentence but the last is complete: a later one has begun.
            finished = reply_sentences(request, reply)[:-1]
            for sentence in finished[done:]:
                yield check_sentence(sentence, passages, settings, request.prompt)[0]
            done = max(done, len(finished))
        replies.append((request, reply, bool(ending.get("truncated"))))
    yield verify_replies(replies, passages, fallback, documents, verify, settings)


def evaluate_llm_answer(answer: Answer) -> dict:
    """Counts for the evaluation harness, to be summed over questions.

    ALCE-style, with the code checks standing in for an entailment model: citation recall is
    sentences_kept / sentences_total (sentences supported by the passages they cite), citation
    precision is citations_supported / citations_total (each written citation number, counted
    as supporting when its passage alone supports the sentence, or the sentence needs it), and
    quote fidelity is shown_quotes_verbatim / shown_quotes, re-checked here on what is shown."""
    out = {
        "mode": answer.mode,
        "abstained": answer.abstained,
        "fallback": FALLBACK_NOTE in answer.notes,
    }
    c = llm_counts(answer) or dict.fromkeys(_NOTE_KEYS, 0)
    out |= {
        "sentences_total": c["total"],
        "sentences_kept": c["kept"],
        "sentences_dropped": c["dropped"],
        "sentences_flagged": c["flagged"],
        "sentences_shown": 0 if out["fallback"] else c["shown"],
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
