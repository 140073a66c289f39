"""Folders of what is derived from one index generation, saved beside it whole or not at all.

Chroma holds the records; what a stage builds from every record of a generation (the
retriever's BM25 and name indexes) is saved in a folder of its own, so a fresh process loads it
instead of reading every chunk. A folder is filled under a temporary name and renamed into place,
and stamped with a key of its generation (the id of its chunk collection) and the size of every
file in it: a generation number used again after a killed run, or a file cut short, never passes
for a good folder. Helpers for rag/index/store.py, which owns the generations.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)

_STAMP = "generation.json"
# Touched by every process that opens a per-server folder: when it was last used.
_USED = ".used"


def root(state_dir: Path | None, vectorstore_dir: Path, chroma_url: str | None) -> Path:
    """The folder that holds the saved folders: `state_dir`, else beside the index."""
    if state_dir is not None:
        return state_dir
    if not chroma_url:
        return vectorstore_dir / "derived"
    # The index lives on a server: a local folder per server, never a vectorstore folder here.
    # Folders are stamped with their collection's id, so a server that was reset is no risk.
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    url = urlparse(chroma_url)
    return cache / "rag" / "servers" / re.sub(r"[^\w.-]+", "_", f"{url.hostname}_{url.port}")


def tend_servers(root: Path, keep_days: int, now: float | None = None) -> list[Path]:
    """Mark the per-server folder `root` used; remove those beside it unused for `keep_days`.

    A server that is gone (a test server, a moved host) would otherwise keep its saved BM25
    and vectors, hundreds of MiB at scale, for ever. What is removed is only derived: a server
    still in use after that long rebuilds it on its next start. `keep_days` 0 keeps all.
    """
    now = time.time() if now is None else now
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / _USED).touch()
        others = [p for p in root.parent.iterdir() if p.is_dir() and p != root]
    except OSError as exc:
        log.warning("cannot mark saved index data %s as used (%s)", root, exc)
        return []
    gone = []
    for other in others if keep_days > 0 else ():
        marker = other / _USED
        try:
            last = (marker if marker.exists() else other).stat().st_mtime
        except OSError:
            continue
        if now - last > keep_days * 86400:
            shutil.rmtree(other, ignore_errors=True)
            gone.append(other)
    return gone


def _folder(root: Path, base: str, gen: int) -> Path:
    return root / f"{base}__g{gen}"


def _sizes(folder: Path) -> dict[str, int]:
    """Every file's size in a folder, by its path inside it."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != _STAMP
    }


def read(root: Path, base: str, gen: int, key: str) -> Path | None:
    """The folder saved for generation `gen`, when it is whole and stamped with `key`; else None."""
    folder = _folder(root, base, gen)
    try:
        stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
        if stamp["key"] != key:
            return None
        if _sizes(folder) != stamp["files"]:
            log.warning("saved index data %s is damaged (file sizes differ); ignoring it", folder)
            return None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("saved index data %s is unreadable (%s); ignoring it", folder, exc)
        return None
    return folder


def write(root: Path, base: str, gen: int, key: str, fill: Callable[[Path], None]) -> None:
    """Have `fill` write a fresh folder, stamp it, and move it into place as generation `gen`'s."""
    root.mkdir(parents=True, exist_ok=True)
    # Unfinished folders start with a dot and name their generation, so `drop` finds them.
    tmp = Path(tempfile.mkdtemp(prefix=f".{base}__g{gen}.", dir=root))
    try:
        fill(tmp)
        stamp = {"key": key, "files": _sizes(tmp)}
        (tmp / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")
        target = _folder(root, base, gen)
        if target.exists():
            # A folder with another key (or damaged): out of the way first, as a directory
            # cannot be renamed over a full one. A reader in between finds none and builds.
            old = tmp.with_name(tmp.name + ".old")
            target.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process saved the same generation first; its folder is as good.
            if read(root, base, gen, key) is None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def drop(root: Path, base: str, keep: set[int]) -> None:
    """Remove the saved folders, finished or not, of every generation not in `keep`."""
    if not root.is_dir():
        return
    pattern = re.compile(rf"\.?{re.escape(base)}__g(\d+)(?:\..*)?")
    for path in root.iterdir():
        m = pattern.fullmatch(path.name)
        if m and int(m[1]) not in keep:
            # A process may still have files of it mapped; they stay readable until it lets go.
            shutil.rmtree(path, ignore_errors=True)
