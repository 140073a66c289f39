"""The optional catalog (`corpus/catalog.toml`): metadata a person wrote down, which overrides
what is read from each document's own text, field by field."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from rag.core.errors import CatalogError
from rag.core.models import DocMeta
from rag.ingest.metadata import infer_metadata

# What a catalog entry may set, and the type each value must have.
_TYPES: dict[str, type | tuple[type, ...]] = {
    f.name: (int if f.name == "year" else list if f.name == "aliases" else str)
    for f in fields(DocMeta)
    if f.name not in ("id", "inferred")
}


@dataclass(frozen=True)
class Catalog:
    """Catalog entries by document id (only the fields a person set), and what was wrong."""

    entries: dict[str, dict[str, object]] = field(default_factory=dict)
    problems: tuple[CatalogError, ...] = ()


def load_catalog(corpus_dir: Path, name: str) -> Catalog:
    """The catalog's valid entries; a missing catalog is an empty one, and a bad key or value
    is reported, naming the file and the key, while the entry's other fields still apply."""
    path = corpus_dir / name
    if not path.exists():
        return Catalog()
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        why = f"cannot be read ({exc}); every document uses the metadata read from its text"
        return Catalog(problems=(CatalogError(str(path), why),))
    entries: dict[str, dict[str, object]] = {}
    problems: list[CatalogError] = []
    for doc_id, given in raw.items():
        if not isinstance(given, dict):
            problems.append(CatalogError(str(path), f"'{doc_id}' is not a [table] of fields"))
            continue
        entries[doc_id] = {}
        for key, value in given.items():
            why = _problem(key, value)
            if why:
                problems.append(CatalogError(str(path), f"[{doc_id}] {why}"))
            else:
                entries[doc_id][key] = tuple(value) if key == "aliases" else value
    return Catalog(entries, tuple(problems))


def _problem(key: str, value: object) -> str | None:
    if key not in _TYPES:
        known = ", ".join(_TYPES)
        return f"unknown key '{key}' (a catalog entry may set: {known})"
    want = _TYPES[key]
    if not isinstance(value, want) or isinstance(value, bool):
        return f"key '{key}' must be {'a whole number' if want is int else want.__name__}"
    if key == "aliases" and not all(isinstance(a, str) for a in value):
        return "key 'aliases' must be a list of strings"
    return None


def document_meta(doc_id: str, text: str, given: Mapping[str, object] | None = None) -> DocMeta:
    """A document's metadata: what its text says, overridden by whatever the catalog sets."""
    found = infer_metadata(text, doc_id)
    read = {
        "title": found.title,
        "partnership": found.partnership,
        "review": found.review,
        "review_type": found.review_type,
        "kind": found.kind,
        "year": found.year,
        "author": found.author,
        "source": found.partnership_full,
        "aliases": found.aliases,
    }
    read = {k: v for k, v in read.items() if v not in (None, "", ())}
    given = dict(given or {})
    if "review" in given and "aliases" not in given:
        # The text's aliases were derived from its own reading of the review name.
        read["aliases"] = (str(given["review"]),)
    inferred = tuple(k for k in read if k not in given)
    return DocMeta(id=doc_id, **(read | given), inferred=inferred)  # type: ignore[arg-type]


def _toml_value(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str | list | tuple):
        raise ValueError(f"a catalog value must be text, a whole number or a list: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(str(v)) for v in value) + "]"
    # JSON's string escapes are valid TOML basic-string escapes once control characters
    # (which TOML forbids raw) are gone.
    return json.dumps("".join(ch for ch in value if ch >= " " and ch != "\x7f"), ensure_ascii=False)


def _header(doc_id: str) -> str:
    bare = re.fullmatch(r"[A-Za-z0-9_-]+", doc_id)
    return f"[{doc_id if bare else json.dumps(doc_id)}]"


def _without_entry(text: str, doc_id: str) -> str:
    """The catalog text without `doc_id`'s table; every other line, comments too, stays."""
    heads = {_header(doc_id), f"[{json.dumps(doc_id)}]"}
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("["):
            skipping = line.strip() in heads
        if not skipping:
            out.append(line)
    return "".join(out).rstrip("\n") + "\n" if out else ""


def _write(path: Path, text: str) -> None:
    # Written beside the catalog and moved into place, so a crash never leaves half a file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_entry(corpus_dir: Path, name: str, doc_id: str, given: Mapping[str, object]) -> None:
    """Write `doc_id`'s catalog entry (only the fields set); other entries are kept as written."""
    problems = [p for k, v in given.items() if (p := _problem(k, list(v) if k == "aliases" else v))]
    if problems:
        raise CatalogError(str(corpus_dir / name), "; ".join(problems))
    path = corpus_dir / name
    text = _without_entry(path.read_text(encoding="utf-8"), doc_id) if path.exists() else ""
    lines = [_header(doc_id)] + [f"{k} = {_toml_value(v)}" for k, v in given.items()]
    _write(path, (text + "\n" if text else "") + "\n".join(lines) + "\n")


def remove_entry(corpus_dir: Path, name: str, doc_id: str) -> None:
    """Drop `doc_id`'s catalog entry, if it has one."""
    path = corpus_dir / name
    if path.exists():
        _write(path, _without_entry(path.read_text(encoding="utf-8"), doc_id))
