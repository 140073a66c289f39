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


@st.cache_resource(show_spinner=False)
def topic_search(_pipe, key: str, generation: int):
    """One topic search (and its sentence-vector cache) per index generation, for every page."""
    from rag.themes import TopicSearch

    return TopicSearch(_pipe)


def trainer_context():
    """Settings, pipeline, index generation and topic search for a trainer page.

    Stops the page with a message when there is no index yet.
    """
    settings = Settings()
    pipe = load_pipeline(settings, settings.model_dump_json())
    generation = pipe.store.active_generation()
    if generation is None:
        st.error("There is no index yet. Build it with `make index` (or `rag ingest`); reload.")
        st.stop()
    return settings, pipe, generation, topic_search(pipe, settings.model_dump_json(), generation)
