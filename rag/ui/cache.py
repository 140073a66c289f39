"""Process-wide Streamlit resources shared by app.py and every page, so the model loads once.

The one module of rag/ that imports Streamlit.
"""

from __future__ import annotations

import streamlit as st

from rag.core.settings import Settings


@st.cache_resource(show_spinner="Loading the model and the index…")
def load_assistant(_settings: Settings, key: str):
    """One assistant (model + index) per server process and settings; `key` tells them apart."""
    from rag.assistant import Assistant

    assistant = Assistant(_settings)
    assistant.warm_up()
    return assistant


@st.cache_resource(show_spinner=False)
def trainer(_assistant, key: str, generation: int):
    """One trainer service (and its sentence-vector cache) per index generation, for every page."""
    from rag.trainer.service import Trainer

    return Trainer(_assistant)


def assistant_context():
    """Settings and the shared assistant for a page; stops the page when there is no index."""
    settings = Settings()
    assistant = load_assistant(settings, settings.model_dump_json())
    if assistant.generation() is None:
        st.error("There is no index yet. Build it with `make index` (or `rag ingest`); reload.")
        st.stop()
    return settings, assistant


def trainer_context():
    """Settings, the shared assistant and the trainer service for a trainer page.

    Stops the page with a message when there is no index yet.
    """
    settings, assistant = assistant_context()
    key = settings.model_dump_json()
    return settings, assistant, trainer(assistant, key, assistant.generation())


@st.cache_resource(show_spinner=False)
def library(_assistant, key: str):
    """One library service (and its reading of the waiting uploads) per server process."""
    from rag.library import Library

    return Library(_assistant)


def library_context():
    """Settings, the shared assistant and the library service for the Library page, which
    works with no index too."""
    settings = Settings()
    key = settings.model_dump_json()
    assistant = load_assistant(settings, key)
    return settings, assistant, library(assistant, key)
