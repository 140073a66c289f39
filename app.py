"""Minimal chat over the reviews; it only renders, every decision lives in rag/."""

from __future__ import annotations

import streamlit as st

from rag.errors import RagError
from rag.settings import Settings
from rag.verify import display


@st.cache_resource(show_spinner="Loading the model and the index…")
def pipeline():
    """One pipeline (model + index) per server process."""
    from rag.pipeline import Pipeline

    return Pipeline(Settings())


st.set_page_config(page_title="Safeguarding review learning", page_icon="📘")
st.title("Learning from safeguarding reviews")
st.caption(
    "A learning tool built from published case reviews, not advice on a live case. "
    "Local procedures and your safeguarding lead come first."
)

if question := st.chat_input("Ask about the reviews' recommendations", key="question"):
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        try:
            answer = pipeline().ask(question)
        except RagError as exc:
            st.error(str(exc))
        else:
            st.text(answer.text.split("\n\n")[0])
            for c in answer.citations:
                st.text(f"[{c.n}] “{display(c.quote.text)}”")
                st.caption(f"{c.hit.meta.title} · {c.hit.chunk.section}")
