"""The layouts of the scale corpus (evals/scale_corpus.py), after the layout zoo's documents.

Each takes a Review and the fictional-document statement and returns the document's text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evals.scale_corpus import Review

WORDS = [
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
    "Twenty",
]
ROMAN = [
    "i",
    "ii",
    "iii",
    "iv",
    "v",
    "vi",
    "vii",
    "viii",
    "ix",
    "x",
    "xi",
    "xii",
    "xiii",
    "xiv",
    "xv",
    "xvi",
    "xvii",
    "xviii",
    "xix",
    "xx",
    "xxi",
    "xxii",
]


def _recs(r: Review):
    """(block index, rec index overall, block, rec) for every recommendation, in order."""
    k = 0
    for b, block in enumerate(r.blocks):
        for rec in block.recs:
            k += 1
            yield b, k, block, rec


def learning_point_response(r: Review, fiction: str) -> str:
    """Kestrel Vale: numbered sections, "Learning Point N – …", "R1.", "Response (Agency):"."""
    out = [
        f"# {r.partnership}",
        f"## Partnership Response to the {r.type_full} concerning {r.name}",
        f"**Published:** {r.month} {r.year}  \n**Independent reviewer:** {r.reviewer}",
        f"> {fiction}",
        "## 1. Introduction",
        *(f"1.{n} {p}" for n, p in enumerate(r.intro, 1)),
        "### Summary of agency involvement",
        *(f"1.{n} {p}" for n, p in enumerate(r.chronology, len(r.intro) + 1)),
    ]
    k = 0
    for b, block in enumerate(r.blocks):
        out += [
            f"## {b + 2}. Learning Point {b + 1} – {block.title}",
            f"{b + 2}.1 {block.finding} {block.paragraphs[0]}",
            f"{b + 2}.2 {block.paragraphs[1]}",
            f"{b + 2}.3 {block.paragraphs[2]}",
        ]
        for rec in block.recs:
            k += 1
            out += [
                f"**R{k}.** {rec.text}",
                f"**Response ({rec.agency}):** {rec.response} {rec.progress}",
                f"**Progress rating:** {rec.rating}",
            ]
    return "\n\n".join(out) + "\n"


def findings_and_responses(r: Review, fiction: str) -> str:
    """Silverbrook: plain text, capitals, "Finding N:", "Recommendation Na", "X response:"."""
    out = [
        r.partnership.upper(),
        f"{r.type_full}: {r.name}\nFindings, recommendations and the response of the "
        "Safeguarding Partners",
        f"Date of publication: {r.month} {r.year}\nIndependent reviewer: {r.reviewer}",
        fiction,
        "\nINTRODUCTION",
        *r.intro,
        "\nBACKGROUND",
        *r.chronology,
        "\nTHE FINDINGS",
    ]
    for b, block in enumerate(r.blocks, 1):
        out += [f"Finding {b}: {block.finding}", *block.paragraphs]
        for letter, rec in zip("abcd", block.recs):
            out += [
                f"Recommendation {b}{letter}: {rec.text}",
                f"{rec.agency} response: {rec.response} {rec.progress} Status: {rec.rating}.",
            ]
    return "\n\n".join(out) + "\n"


def action_plan(r: Review, fiction: str) -> str:
    """Ashdown: findings as sections, then one pipe table of recommendations and progress."""
    out = [
        f"# {r.partnership}",
        f"# {r.type_full}: {r.name}",
        f"## Multi-Agency Action Plan (updated {r.month} {r.year})",
        f"| | |\n|---|---|\n| Review | {r.type_short} – {r.name} |\n"
        f"| Lead reviewer | {r.reviewer} |\n| Report published | {r.month} {r.year} |",
        f"*{fiction}*",
        "### 1. Summary of the review",
        *r.intro,
        *r.chronology,
    ]
    for b, block in enumerate(r.blocks, 2):
        out += [f"### {b}. {block.title}", block.finding, *block.paragraphs]
    rows = [
        "| No. | Recommendation | Lead agency | Action | RAG status | Progress |",
        "|---|---|---|---|---|---|",
    ]
    rows += [
        f"| {k} | {rec.text} | {rec.agency} | {rec.response} | {rec.rating} | {rec.progress} |"
        for _, k, _, rec in _recs(r)
    ]
    out += [f"### {len(r.blocks) + 2}. Recommendations and actions", "\n".join(rows)]
    return "\n\n".join(out) + "\n"


def executive_summary(r: Review, fiction: str) -> str:
    """Brackenridge: "Finding One" … and "Recommendation i" … in roman numerals."""
    out = [
        f"# {r.type_full}: {r.name}",
        f"## Executive Summary\n\n{r.partnership}, {r.month} {r.year}. Author: {r.reviewer}.",
        f"_{fiction}_",
        "## Introduction",
        *r.intro,
        "## Background",
        *r.chronology,
        "## Findings",
    ]
    for b, block in enumerate(r.blocks):
        out += [f"### Finding {WORDS[b]}: {block.title}", block.finding, *block.paragraphs]
    out.append("## Recommendations")
    for _, k, _, rec in _recs(r):
        out += [
            f"### Recommendation {ROMAN[k - 1] if k <= len(ROMAN) else k}",
            rec.text,
            f"Response from {rec.agency}: {rec.response} {rec.progress}",
        ]
    return "\n\n".join(out) + "\n"


def practice_review(r: Review, fiction: str) -> str:
    """Bryngarth: a concise practice review with "Learning N:", "Action N:", outcomes."""
    out = [
        f"{r.partnership}\n{r.type_full} {r.year}: {r.name}",
        f"Reviewer: {r.reviewer}. Published {r.month} {r.year}.",
        fiction,
        "BRIEF OUTLINE OF CIRCUMSTANCES",
        *r.intro,
        *r.chronology,
        "LEARNING AND ACTIONS",
    ]
    k = 0
    for b, block in enumerate(r.blocks, 1):
        out += [f"Learning {b}: {block.finding}", *block.paragraphs, block.learning]
        for rec in block.recs:
            k += 1
            out += [
                f"Action {k}: {rec.text}",
                f"Anticipated outcome: {rec.response} Lead: {rec.agency}. {rec.progress}",
            ]
    return "\n\n".join(out) + "\n"


def recommendation_headings(r: Review, fiction: str) -> str:
    """The shipped corpus's response documents: "Recommendation N", Response, Progress."""
    out = [
        f"# Response to the Recommendations from the {r.type_full} of {r.name}",
        f"{r.partnership}, {r.month} {r.year}. Independent author: {r.reviewer}.",
        fiction,
        "## Introduction",
        *r.intro,
        "## Summary of the case",
        *r.chronology,
        "## Key findings",
    ]
    for block in r.blocks:
        out += [f"### {block.title}", block.finding, *block.paragraphs]
    for _, k, _, rec in _recs(r):
        out += [
            f"## Recommendation {k}",
            rec.text,
            f"**Response ({rec.agency}):** {rec.response}",
            f"**Progress:** {rec.progress} Rating: {rec.rating}.",
        ]
    out += ["## Learning points", *(f"- {b.learning}" for b in r.blocks)]
    return "\n\n".join(out) + "\n"


def lines_of_enquiry(r: Review, fiction: str) -> str:
    """Fernhollow: a review organised by "Key Line of Enquiry N:"."""
    out = [
        f"# {r.partnership}",
        f"# {r.type_full} concerning {r.name}",
        f"{r.reviewer}, {r.month} {r.year}",
        f"> {fiction}",
        "## Context",
        *r.intro,
        *r.chronology,
    ]
    k = 0
    for b, block in enumerate(r.blocks, 1):
        out += [
            f"## Key Line of Enquiry {b}: {block.title}",
            "### What we found",
            block.finding + " " + block.paragraphs[0],
            block.paragraphs[1],
            "### What worked well",
            block.paragraphs[2],
            "### What needs to change",
        ]
        for rec in block.recs:
            k += 1
            out += [
                f"**Recommendation {k}.** {rec.text}",
                f"Partner response ({rec.agency}): {rec.response} {rec.progress}",
            ]
    return "\n\n".join(out) + "\n"


LAYOUTS: dict[str, tuple[str, Callable[[Review, str], str]]] = {
    "learning-points": ("md", learning_point_response),
    "findings-responses": ("txt", findings_and_responses),
    "action-plan": ("md", action_plan),
    "executive-summary": ("md", executive_summary),
    "practice-review": ("txt", practice_review),
    "recommendations": ("md", recommendation_headings),
    "enquiry-lines": ("md", lines_of_enquiry),
}
