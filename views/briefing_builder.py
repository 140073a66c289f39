"""Build a cited 7-minute briefing on a topic; this page only renders, rag/trainer decides.

All document and user text goes through `ui.md_escape`, so it shows as text, never as markup.
"""

from __future__ import annotations

import re

import streamlit as st

from rag.core.errors import RagError
from rag.trainer.service import FORMATS, MEDIA_TYPES, QUESTIONS_LABEL, Briefing, Trainer
from rag.ui import view as ui
from rag.ui.cache import trainer_context

esc = ui.md_escape
LABELS = {"md": "Markdown", "docx": "Word (.docx)", "html": "Print page (HTML)"}


def widget_key(item_key: str) -> str:
    return re.sub(r"\W", "_", item_key)


def make(trainer: Trainer) -> None:
    st.session_state.pop("edit_error", None)
    try:
        st.session_state["briefing"] = trainer.briefing(
            st.session_state.get("topic", ""),
            reviews=st.session_state.get("reviews", []),
            agency=st.session_state.get("agency", ""),
        )
        st.session_state["questions"] = "\n".join(st.session_state["briefing"].questions)
        st.session_state.pop("build_error", None)
    except RagError as exc:
        st.session_state["build_error"] = str(exc)


def drop(item_key: str) -> None:
    st.session_state["briefing"] = Trainer.remove(st.session_state["briefing"], item_key)


def save_edit(item_key: str, trainer: Trainer) -> None:
    text = st.session_state.get(f"edit_{widget_key(item_key)}", "")
    try:
        b = trainer.edit(st.session_state["briefing"], item_key, text)
        st.session_state["briefing"] = b
        st.session_state.pop("edit_error", None)
    except RagError as exc:
        st.session_state["edit_error"] = str(exc)


def save_questions() -> None:
    lines = st.session_state.get("questions", "").splitlines()
    st.session_state["briefing"] = Trainer.set_questions(st.session_state["briefing"], lines)


def render_briefing(b: Briefing, trainer: Trainer) -> None:
    st.header(esc(f"7-minute briefing: {b.topic}"))
    if b.agency:
        st.caption(esc(f"Agency focus: {b.agency}"))
    if b.notice:
        st.warning(esc(b.notice), icon="⚠️")
    if err := st.session_state.get("edit_error"):
        st.error(esc(err))
    for point in b.points:
        st.subheader(esc(point.heading))
        if not point.items:
            st.caption(esc(point.note))
        for item in point.items:
            k = widget_key(item.key)
            with st.container(border=True, key=f"item_{k}"):
                st.markdown(f"> “{esc(item.text)}” \\[{b.number(item)}\\]")
                # What the quote is, from its span's role: a response is never a recommendation.
                st.caption(esc(f"{item.label} · {item.source.cite()}"))
                cols = st.columns([1, 4])
                cols[0].button("Remove", key=f"rm_{k}", on_click=drop, args=(item.key,))
                with cols[1].expander("Edit (shorten or re-cut; the words must stay verbatim)"):
                    st.text_area("Quote", value=item.text, key=f"edit_{k}")
                    st.button(
                        "Save edit", key=f"save_{k}", on_click=save_edit, args=(item.key, trainer)
                    )
    st.subheader("Questions for reflection")
    st.caption(esc(QUESTIONS_LABEL))
    st.text_area("One question per line; edit freely", key="questions", on_change=save_questions)
    for n, q in enumerate(b.questions, 1):
        st.markdown(f"{n}\\. {esc(q)}")
    if b.sources:
        st.subheader("Sources")
        for n, s in enumerate(b.sources, 1):
            st.markdown(f"\\[{n}\\] {esc(s.cite())}")


def downloads(b: Briefing, trainer: Trainer) -> None:
    try:
        files = {fmt: trainer.export(b, fmt) for fmt in FORMATS}
    except RagError as exc:
        st.error(esc(str(exc)))
        return
    slug = re.sub(r"[^a-z0-9]+", "-", b.topic.lower()).strip("-") or "briefing"
    cols = st.columns(len(FORMATS))
    for col, fmt in zip(cols, FORMATS):
        col.download_button(
            f"Download {LABELS[fmt]}",
            data=files[fmt],
            file_name=f"briefing-{slug}.{fmt}",
            mime=MEDIA_TYPES[fmt],
            key=f"download_{fmt}",
            on_click="ignore",
        )


def main() -> None:
    st.set_page_config(page_title="7-minute briefing builder", page_icon="📝", layout="wide")
    st.title("7-minute briefing builder")
    st.caption(
        "Builds a team briefing from the corpus in the standard seven points. Every quote is "
        "word for word from a published review and cited; the reflective questions are prompts "
        "for discussion, not quotes. A learning tool, not advice on a live case."
    )
    settings, assistant, trainer = trainer_context()
    cols = st.columns([3, 3, 2])
    cols[0].text_input("Topic", key="topic", placeholder="e.g. safe sleep, professional curiosity")
    cols[1].multiselect("Reviews (optional; default all)", trainer.reviews(), key="reviews")
    cols[2].text_input("Agency focus (optional)", key="agency", placeholder="e.g. health visitors")
    st.button("Build briefing", key="build", type="primary", on_click=make, args=(trainer,))
    if err := st.session_state.get("build_error"):
        st.error(esc(err))
    b: Briefing | None = st.session_state.get("briefing")
    if b is not None:
        downloads(b, trainer)
        render_briefing(b, trainer)


main()
