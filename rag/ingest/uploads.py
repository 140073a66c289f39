"""Files a user uploads in the browser, saved into the corpus folder under safe names."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

from rag.core import errors
from rag.ingest.reading import SUPPORTED


def safe_name(filename: str) -> str:
    """A file name that cannot leave the folder or surprise a shell: no directories, only
    letters, digits, '.', '_' and '-', and a supported extension."""
    # Both separators: a browser on Windows may send "C:\\Users\\me\\review.pdf".
    base = PureWindowsPath(PurePosixPath(filename).name).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_.") or "document"
    suffix = suffix.lower()
    if f".{suffix}" not in SUPPORTED:
        raise errors.UnsupportedFormat(filename, f".{suffix}" if suffix else "no extension")
    return f"{stem[:120]}.{suffix}"


def save_upload(corpus_dir: Path, filename: str, data: bytes, replace: Path | None = None) -> Path:
    """Save an uploaded file in `corpus_dir` and return where; a new upload never overwrites
    another file (a suffix is added), a replacement overwrites only the file it replaces."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    if replace is not None:
        old = replace.resolve()
        if corpus_dir.resolve() not in old.parents:
            raise errors.UnsupportedFormat(filename, "replaces a file outside the corpus folder")
        # The new version keeps the document's id (the stem) in whatever format it comes.
        target = old.with_suffix("." + safe_name(filename).rsplit(".", 1)[1])
    else:
        name = safe_name(filename)
        stem, suffix = name.rsplit(".", 1)
        target, n = corpus_dir / name, 1
        # Ids are file stems, so a new file must not share one with any existing document.
        while any(corpus_dir.glob(f"{glob_escape(target.stem)}.*")):
            n += 1
            target = corpus_dir / f"{stem}-{n}.{suffix}"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    if replace is not None and old != target:
        old.unlink(missing_ok=True)
    return target


def glob_escape(text: str) -> str:
    """`text` with glob wildcards made literal."""
    return re.sub(r"([*?\[])", r"[\1]", text)
