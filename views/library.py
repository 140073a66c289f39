"""The Library: add reviews, check what was read from them, correct it, replace or remove.

This page only renders; rag/library.py does the work, and every change is an ordinary ingest
behind the index's generation switch. Document text goes through `ui.md_escape` or into
dataframes and form fields, so it shows as text, never as HTML.
"""

from __future__ import annotations

import streamlit as st

from rag.assistant import Progress
from rag.core.errors import RagError
from rag.library import EDITABLE, Entry, Library
from rag.ui import view as ui
from rag.ui.cache import library_context

esc = ui.md_escape
LABELS = {
    "title": "Title",
    "partnership": "Partnership",
    "review": "Review name",
    "review_type": "Review type",
    "kind": "Document kind",
    "year": "Year",
    "aliases": "Other names (comma separated)",
}


def password_field(library: Library) -> str | None:
    """The password typed for changes, when the library is locked; None when it is open."""
    if not library.locked:
        return None
    st.caption("Anyone can read the library. Changing it needs the administrator password.")
    return st.text_input("Administrator password", type="password", key="admin_password")


def progress_bar() -> Progress:
    """A progress bar through reading, then embedding."""
    bar = st.progress(0.0, text="Reading…")

    def files(done: int, total: int) -> None:
        bar.progress(0.3 * done / max(total, 1), text=f"Reading {done} of {total} files")

    def chunks(done: int, total: int) -> None:
        bar.progress(0.3 + 0.7 * done / max(total, 1), text=f"Embedding {done} of {total}")

    return Progress(files=files, chunks=chunks)


def upload(library: Library, password: str | None) -> None:
    """The uploader: several files at once; each bad file is named, the rest go in."""
    key = f"uploads_{st.session_state.get('upload_round', 0)}"
    files = st.file_uploader(
        "Add reviews: PDF, Word, Markdown or text",
        type=["pdf", "docx", "md", "txt"],
        accept_multiple_files=True,
        key=key,
    )
    if not st.button("Add to the library", key="add", disabled=not files):
        return
    try:
        added = library.add([(f.name, f.getvalue()) for f in files], password, progress_bar())
    except RagError as exc:
        st.error(esc(str(exc)))
        return
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
    st.session_state["upload_result"] = (
        [ui.file_problem(f) for f in added.failures],
        list(added.report.sync.added + added.report.sync.replaced) if added.report else [],
    )
    st.rerun()


def upload_result() -> None:
    """What the last upload did, shown once after the page reloads."""
    failures, added = st.session_state.pop("upload_result", ([], []))
    for message in failures:
        st.error(f"Not added: {esc(message)}")
    if added:
        st.success(f"Added: {esc(', '.join(added))}. Check what was read from each below.")


def documents_table(entries: list[Entry]) -> None:
    """Every indexed document, one row each."""
    rows = [
        {
            "Title": e.meta.title,
            "Review": e.meta.review or "",
            "Kind": e.meta.kind or "",
            "Pages": e.pages,
            "Passages": e.chunks,
            "Added": e.added or "",
            "Read from the text": ", ".join(LABELS.get(f, f) for f in e.meta.inferred),
            "Id": e.meta.id,
        }
        for e in entries
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def correct_form(library: Library, entry: Entry, password: str | None) -> None:
    """A form with every metadata field; saving writes the catalog and re-indexes."""
    m = entry.meta
    # A new key after each save, so the fields show the saved values, not what was typed.
    ver = st.session_state.get(f"saved_{m.id}", 0)
    with st.form(f"correct_{m.id}_{ver}"):
        shown, values = {}, {}
        for name in EDITABLE:
            now = getattr(m, name)
            shown[name] = ", ".join(now) if name == "aliases" else ("" if now is None else str(now))
            tag = " (read from the text)" if name in m.inferred else ""
            values[name] = st.text_input(
                LABELS[name] + tag, shown[name], key=f"{name}_{m.id}_{ver}"
            )
        if not st.form_submit_button("Save corrections"):
            return
    # Only what the person changed becomes catalog data; the rest is still read from the text.
    fields: dict[str, object] = {
        k: v.strip() for k, v in values.items() if v.strip() != shown[k].strip()
    }
    if "aliases" in fields:
        fields["aliases"] = [a.strip() for a in values["aliases"].split(",") if a.strip()]
    if "year" in fields:
        year = str(fields["year"])
        if year and not year.isdigit():
            st.error("The year must be a number, such as 2021.")
            return
        fields["year"] = int(year) if year else None
    try:
        library.correct(m.id, fields, password)
    except RagError as exc:
        st.error(esc(str(exc)))
        return
    st.session_state[f"saved_{m.id}"] = ver + 1
    st.session_state["library_notice"] = f"Saved the corrections to {m.title}."
    st.rerun()


def outline(library: Library, entry: Entry) -> None:
    """The document's structure: each section, its kind, the roles of its parts, its page."""
    rows = [
        {
            "Section": r.section,
            "Kind": r.kind,
            "Parts": ", ".join(x.replace("_", " ") for x in r.roles),
            "Page": r.page,
        }
        for r in library.outline(entry.meta.id)
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def manage(library: Library, entry: Entry, password: str | None) -> None:
    """Replace the document with a new version, or remove it."""
    m = entry.meta
    new = st.file_uploader(
        "Replace with a new version", type=["pdf", "docx", "md", "txt"], key=f"replace_{m.id}"
    )
    left, right = st.columns(2)
    try:
        if left.button("Replace", key=f"do_replace_{m.id}", disabled=new is None):
            library.replace(m.id, new.name, new.getvalue(), password)
            st.session_state["library_notice"] = f"Replaced {m.title} with {new.name}."
            st.rerun()
        if right.button("Remove from the library", key=f"remove_{m.id}"):
            library.remove(m.id, password)
            st.session_state["library_notice"] = f"Removed {m.title}."
            st.rerun()
    except RagError as exc:
        st.error(esc(str(exc)))


def main() -> None:
    st.title("Library")
    _, assistant = library_context()
    library = Library(assistant)
    password = password_field(library)
    upload(library, password)
    upload_result()
    if notice := st.session_state.pop("library_notice", None):
        st.success(esc(notice))
    entries = library.entries()
    if not entries:
        st.info("The library is empty. Add a review above; chat can answer from it at once.")
        return
    st.subheader(f"{len(entries)} documents")
    documents_table(entries)
    for entry in entries:
        with st.expander(entry.meta.title):
            st.caption(f"id {esc(entry.meta.id)} · file {esc(entry.path)}")
            tabs = st.tabs(["Structure", "Correct the details", "Replace or remove"])
            with tabs[0]:
                outline(library, entry)
            with tabs[1]:
                correct_form(library, entry, password)
            with tabs[2]:
                manage(library, entry, password)


main()
