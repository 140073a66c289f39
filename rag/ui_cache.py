"""Process-wide Streamlit resources shared by app.py and every page, so the model loads once."""

from __future__ import annotations

import streamlit as st

from rag.settings import Settings


@st.cache_resource(show_spinner="Loading the model and the index…")
def load_pipeline(_settings: Settings, key: str):
    """One pipeline (model + index) per server process and settings; `key` tells them apart."""
    from rag.pipeline import Pipeline

    pipe = Pipeline(_settings)
    pipe.embedder.embed_one("warm up")
    if pipe.store.active_generation() is not None:
        _ = pipe.retriever  # build the lexical index now, not on the first question
    return pipe
