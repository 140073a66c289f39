"""The vectors of a generation's candidate quote sentences, saved beside it on disk.

Answers read the stored vectors of a few dozen candidate sentences per question. Read through
Chroma, the first such read loads the whole vector segment of the sentence collection (at
396,344 sentences, 60 questions in one process peaked at 1,812 MiB that way and 1,259 MiB with
this table); here the ids are searched in a mapped array and only the rows asked for are read.
The files are written once per generation, at ingest, into a folder of `rag.index.derived`
(whole or not at all, stamped with the sentence collection's id); Store falls back to Chroma
when there is none.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.index import derived

log = logging.getLogger(__name__)

_IDS, _VECTORS, _RAW = "ids.npy", "vectors.npy", "unsorted.npy"
_BLOCK = 8192  # rows copied at a time when sorting


def write(pages: Iterator[dict], count: int, folder: Path) -> None:
    """Write every (id, embedding) of `pages` (Chroma `get` results, `count` rows in all),
    sorted by id: a chunk's sentences (ids "<chunk id>:<start>:<end>") sit side by side."""
    raw = None
    ids: list[str] = []
    for got in pages:
        block = np.asarray(got["embeddings"], dtype=np.float32)
        if raw is None:
            shape = (count, block.shape[1])
            raw = np.lib.format.open_memmap(folder / _RAW, "w+", np.float32, shape)
        if len(ids) + len(block) > count:
            raise ValueError("the sentence collection grew while it was being saved")
        raw[len(ids) : len(ids) + len(block)] = block
        ids.extend(got["ids"])
    if len(ids) != count:
        raise ValueError("the sentence collection changed while it was being saved")
    names = np.asarray(ids, dtype=str)
    order = np.argsort(names, kind="stable")
    np.save(folder / _IDS, names[order])
    if raw is None:
        np.save(folder / _VECTORS, np.zeros((0, 0), dtype=np.float32))
        return
    out = np.lib.format.open_memmap(folder / _VECTORS, "w+", np.float32, raw.shape)
    for k in range(0, count, _BLOCK):
        out[k : k + _BLOCK] = raw[order[k : k + _BLOCK]]
    out.flush()
    del out, raw
    (folder / _RAW).unlink()


class SentenceVectors:
    """The saved vectors of one generation: ids searched in a mapped array, rows read with
    `os.pread`, so what a question reads stays in the page cache, not in the process."""

    def __init__(self, folder: Path):
        self._ids = np.load(folder / _IDS, mmap_mode="r")
        path = folder / _VECTORS
        with path.open("rb") as f:
            version = np.lib.format.read_magic(f)
            header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                version, np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = header(f)
            self._offset = f.tell()
        if fortran or dtype != np.float32 or len(shape) != 2 or shape[0] != len(self._ids):
            raise ValueError(f"saved sentence vectors in {folder} do not match their ids")
        self._width = shape[1]
        self._fd = os.open(path, os.O_RDONLY)
        # The descriptor lives as long as the table; a process holds one per generation read.
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return len(self._ids)

    def _row(self, row: int) -> np.ndarray:
        size = 4 * self._width
        data = os.pread(self._fd, size, self._offset + row * size)
        if len(data) != size:
            raise ValueError("saved sentence vectors are shorter than their ids")
        return np.frombuffer(data, dtype=np.float32).copy()

    def get(self, ids: Sequence[str] | Iterable[str]) -> dict[str, np.ndarray]:
        """The vector of each id that has one."""
        # An id longer than the stored ones is none of them (and must not be cut to fit).
        longest = self._ids.dtype.itemsize // 4
        wanted = [i for i in dict.fromkeys(ids) if len(i) <= longest]
        if not wanted:
            return {}
        asked = np.asarray(wanted, dtype=self._ids.dtype)
        pos = np.minimum(np.searchsorted(self._ids, asked), len(self._ids) - 1)
        found = self._ids[pos] == asked
        return {
            name: self._row(row)
            for name, row in zip(np.asarray(wanted)[found].tolist(), pos[found].tolist())
        }


def obtain(
    root: Path,
    base: str,
    generation: int,
    key: str,
    pages: Callable[[], Iterator[dict]],
    count: Callable[[], int],
) -> SentenceVectors | None:
    """The vectors saved for `generation` under `root`, written from `pages` first when there
    are none; None (and a warning) when they cannot be written or read."""
    try:
        if (folder := derived.read(root, base, generation, key)) is None:
            derived.write(root, base, generation, key, lambda tmp: write(pages(), count(), tmp))
            folder = derived.read(root, base, generation, key)
        return None if folder is None else SentenceVectors(folder)
    except (OSError, ValueError) as exc:
        log.warning("sentence vectors not saved (%s); reading them from Chroma", exc)
        return None
