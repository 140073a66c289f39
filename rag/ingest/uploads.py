"""Files a user uploads in the browser, saved into the corpus folder under safe names.

An upload first waits in a hidden folder inside the corpus folder (no ingest reads hidden
folders) until the person has checked what was read from it; `admit` then moves it in.
"""

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


STAGING = ".uploads"


def staged_files(corpus_dir: Path) -> list[Path]:
    """The uploads waiting to be checked, by name."""
    folder = corpus_dir / STAGING
    if not folder.is_dir():
        return []
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))


def _taken(corpus_dir: Path, stem: str) -> bool:
    # Ids are file stems, so a new file must not share one with any document, waiting or in.
    pattern = f"{glob_escape(stem)}.*"
    return any(corpus_dir.glob(pattern)) or any((corpus_dir / STAGING).glob(pattern))


def save_upload(
    corpus_dir: Path,
    filename: str,
    data: bytes,
    replace: Path | None = None,
    staged: bool = False,
) -> Path:
    """Save an uploaded file in `corpus_dir` (or, `staged`, in its waiting folder) and return
    where; a new upload never overwrites another file (a suffix is added), a replacement
    overwrites only the file it replaces."""
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
        folder = corpus_dir / STAGING if staged else corpus_dir
        folder.mkdir(exist_ok=True)
        target, n = folder / name, 1
        while _taken(corpus_dir, target.stem):
            n += 1
            target = folder / f"{stem}-{n}.{suffix}"
    _write(target, data)
    if replace is not None and old != target:
        old.unlink(missing_ok=True)
    return target


def admit(staged: Path, corpus_dir: Path) -> Path:
    """Move a checked upload from the waiting folder into the corpus folder, under its id."""
    target = corpus_dir / staged.name
    if any(corpus_dir.glob(f"{glob_escape(staged.stem)}.*")):
        # Only a file put in the folder by hand meanwhile can hold the id; the upload stays.
        raise errors.DuplicateDocument(staged.name, f"the id '{staged.stem}' is taken meanwhile")
    os.replace(staged, target)
    return target


def _write(target: Path, data: bytes) -> None:
    # Written beside the target and moved into place, so a crash never leaves half a file.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def glob_escape(text: str) -> str:
    """`text` with glob wildcards made literal."""
    return re.sub(r"([*?\[])", r"[\1]", text)
