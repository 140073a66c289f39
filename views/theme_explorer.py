"""Themes against reviews: how many passages support each theme in each review, and which.

This page only renders; rag/trainer decides membership (retrieval, calibrated threshold).
All document text goes through `ui.md_escape`, so it shows as text, never as markup.
"""

from __future__ import annotations

import streamlit as st

from rag.trainer.service import ThemeMatrix, Trainer, themes_source
from rag.ui import view as ui
from rag.ui.cache import trainer_context

esc = ui.md_escape


@st.cache_resource(show_spinner="Finding each theme in each review…")
def matrix(_trainer: Trainer, key: str, generation: int, themes_toml: str) -> ThemeMatrix:
    """The theme × review matrix, computed again when the index or the theme file changes."""
    return _trainer.matrix(themes_toml)


def pick(theme: str, review: str | None) -> None:
    """Choose a cell, or a whole theme row when `review` is None."""
    st.session_state["cell"] = (theme, review)


def render_matrix(m: ThemeMatrix) -> None:
    widths = [3] + [2] * len(m.reviews)
    head = st.columns(widths)
    head[0].markdown("**Theme**")
    for col, review in zip(head[1:], m.reviews):
        col.markdown(f"**{esc(review)}**")
    chosen = st.session_state.get("cell")
    for t, theme in enumerate(m.themes):
        row = st.columns(widths)
        row[0].button(
            theme.name,
            key=f"theme_{t}",
            help=f"Every review's passages on {theme.name}, recommendations and findings apart",
            on_click=pick,
            args=(theme.name, None),
            disabled=not m.row(theme.name),
            type="primary" if chosen == (theme.name, None) else "tertiary",
        )
        for r, review in enumerate(m.reviews):
            n = m.count(theme.name, review)
            row[r + 1].button(
                str(n),
                key=f"cell_{t}_{r}",
                help=f"{n} supporting passages: {theme.name} in {review}",
                on_click=pick,
                args=(theme.name, review),
                disabled=n == 0,
                type="primary" if chosen == (theme.name, review) else "secondary",
                width="stretch",
            )


def render_cell(m: ThemeMatrix, trainer: Trainer) -> None:
    theme, review = st.session_state["cell"]
    if theme not in [t.name for t in m.themes] or (review is not None and review not in m.reviews):
        return
    matches = m.row(theme) if review is None else m.matches(theme, review)
    where = "every review" if review is None else review
    st.subheader(esc(f"{theme} in {where}: {len(matches)} supporting passages"))
    for part in trainer.parts(matches):
        st.markdown(f"#### {esc(part.title)}")
        for c in part.citations:
            with st.container(border=True, key=f"quote_{c.n}"):
                st.markdown(f"\\[{c.n}\\] “{esc(ui.card(c).quote)}”")
                page = f" · p. {c.page}" if c.page else ""
                st.caption(f"{esc(c.hit.meta.title)} · {esc(c.hit.chunk.section)}{page}")


def main() -> None:
    st.set_page_config(page_title="Theme explorer", page_icon="🧭", layout="wide")
    st.title("Theme explorer")
    st.caption(
        "Each cell counts the passages of a review that support a theme; click a cell (or a "
        "theme, for every review) to read them, quoted word for word with their source and "
        "grouped by what each quote is: the review's recommendations, its findings, an "
        "agency's response. Membership is decided by retrieval "
        "against each theme's queries (rag/data/themes.toml) with a threshold calibrated on a "
        "hand-labelled set, so a count is a guide to where to read, not a finding."
    )
    settings, assistant, trainer = trainer_context()
    m = matrix(trainer, settings.model_dump_json(), assistant.generation(), themes_source())
    render_matrix(m)
    if "cell" in st.session_state:
        render_cell(m, trainer)


main()
