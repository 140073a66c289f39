"""Mechanical checks for the layout zoo (evals/zoo).

Usage:  /tmp/zoo-venv/bin/python evals/zoo/check.py      (needs pypdf and python-docx)

Checks:
  * every gold phrase of every question is found, after normalisation, in the text
    extracted from its document (plain read for .md/.txt; pypdf page.extract_text()
    joined with "\n" for PDF; paragraphs + table cell texts joined with "\n" for DOCX);
  * gold phrases are 6-20 words long;
  * ids are unique; fields and types are valid; unanswerable <=> gold == [];
  * every document has >= 12 questions, >= 2 of them unanswerable (questions are
    attributed to documents through src/question_targets.json);
  * a question's split is the split of every document in its gold; every document in
    expected.toml exists, has one split, and its item labels occur in the text in order;
  * every document says it is fictional and is 1,500-5,000 words long.
Exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
import unicodedata
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")
TYPES = {"lookup", "paraphrase", "agency", "response", "cross_review", "unanswerable"}
SPLITS = {"zoo-dev", "zoo-test"}
FICTION = "This is a fictional document written for software testing"


def extract(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext in (".md", ".txt"):
        with open(path, encoding="utf-8") as f:
            return f.read()
    if ext == ".pdf":
        from pypdf import PdfReader

        return "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)
    if ext == ".docx":
        import docx

        d = docx.Document(path)
        parts = [p.text for p in d.paragraphs]
        for t in d.tables:
            for row in t.rows:
                for cell in row.cells:
                    parts.append(cell.text)
        return "\n".join(parts)
    raise ValueError(f"unsupported format: {path}")


DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"


def norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    for ch in "\u2018\u2019\u201a\u2032":
        s = s.replace(ch, "'")
    for ch in "\u201c\u201d\u201e\u2033":
        s = s.replace(ch, '"')
    for d in DASHES:
        s = s.replace(d, "-")
    s = s.replace("*", "").replace("_", "")
    s = re.sub(r"\s+", " ", s)
    return s.strip()


def doc_paths() -> dict[str, str]:
    out = {}
    for name in sorted(os.listdir(DOCS)):
        stem, ext = os.path.splitext(name)
        if ext.lower() in (".md", ".txt", ".pdf", ".docx"):
            out[stem] = os.path.join(DOCS, name)
    return out


def main() -> int:
    errors: list[str] = []
    paths = doc_paths()
    texts = {d: norm(extract(p)) for d, p in paths.items()}
    with open(os.path.join(HERE, "expected.toml"), "rb") as f:
        expected = tomllib.load(f)
    with open(os.path.join(HERE, "src", "question_targets.json"), encoding="utf-8") as f:
        targets = json.load(f)

    # documents
    if set(expected) != set(paths):
        errors.append(f"expected.toml ids {sorted(set(expected) ^ set(paths))} do not match docs/")
    for d, t in texts.items():
        if FICTION not in t:
            errors.append(f"{d}: no fictional-document statement")
        n = len(t.split())
        if not 1500 <= n <= 5000:
            errors.append(f"{d}: {n} words (want 1500-5000)")
        e = expected.get(d, {})
        if e.get("split") not in SPLITS:
            errors.append(f"{d}: bad split in expected.toml")
        pos = 0
        for label in e.get("items", []):
            i = t.find(norm(label), pos)
            if i < 0 and label.split()[0] == "Recommendation":
                # table rows numbered only ("1", "2", ...) in the No. column
                i = t.find(norm(label.split()[-1]), pos)
            if i < 0:
                errors.append(f"{d}: item label {label!r} not found in order")
            else:
                pos = i + 1
    doc_split = {d: e.get("split") for d, e in expected.items()}

    # questions
    qs = []
    with open(os.path.join(HERE, "questions.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                qs.append(json.loads(line))
    ids = Counter(q["id"] for q in qs)
    for i, c in ids.items():
        if c > 1:
            errors.append(f"duplicate id {i}")
    per_doc = defaultdict(lambda: [0, 0])
    for q in qs:
        qid = q["id"]
        if set(q) != {"id", "split", "type", "question", "gold", "answerable"}:
            errors.append(f"{qid}: wrong keys {sorted(q)}")
        if q["split"] not in SPLITS:
            errors.append(f"{qid}: bad split")
        if q["type"] not in TYPES:
            errors.append(f"{qid}: bad type {q['type']}")
        if q["answerable"] != bool(q["gold"]):
            errors.append(f"{qid}: answerable must be true iff gold is non-empty")
        if (q["type"] == "unanswerable") != (not q["answerable"]):
            errors.append(f"{qid}: type unanswerable must match answerable=false")
        if q["type"] == "cross_review" and len({g["document"] for g in q["gold"]}) < 2:
            errors.append(f"{qid}: cross_review needs gold from several documents")
        for g in q["gold"]:
            d, ph = g["document"], g["phrase"]
            if d not in texts:
                errors.append(f"{qid}: unknown document {d}")
                continue
            if doc_split.get(d) != q["split"]:
                errors.append(
                    f"{qid}: gold document {d} is in {doc_split.get(d)}, question in {q['split']}"
                )
            nw = len(ph.split())
            if not 6 <= nw <= 20:
                errors.append(f"{qid}: phrase has {nw} words: {ph!r}")
            if norm(ph) not in texts[d]:
                errors.append(f"{qid}: phrase not found in {d}: {ph!r}")
        tgt = targets.get(qid)
        if tgt is None:
            errors.append(f"{qid}: no entry in src/question_targets.json")
        elif tgt in paths:
            per_doc[tgt][0] += 1
            per_doc[tgt][1] += 0 if q["answerable"] else 1
            if doc_split.get(tgt) != q["split"]:
                errors.append(f"{qid}: target document {tgt} is in another split")
    for d in paths:
        n, u = per_doc[d]
        if n < 12 or u < 2:
            errors.append(f"{d}: {n} questions, {u} unanswerable (want >=12, >=2)")

    by_split = defaultdict(lambda: [0, 0])
    for q in qs:
        by_split[q["split"]][0 if q["answerable"] else 1] += 1
    for s in sorted(by_split):
        a, u = by_split[s]
        print(f"{s}: {a} answerable, {u} unanswerable, {a + u} total")
    print(f"{len(qs)} questions over {len(paths)} documents")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  -", e)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
