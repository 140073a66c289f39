"""The Library: add reviews, check what was read from them, correct it, replace or remove.

An upload is read and chunked first and waits, not live, until the person has checked what
was read from it and added it. This page only renders; rag/library.py does the work, and every
change to the index is an ordinary ingest behind its generation switch. Document text goes
through `ui.md_escape` or into dataframes and form fields, so it shows as text, never as HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import streamlit as st

from rag.assistant import Progress
from rag.core.errors import RagError
from rag.core.models import DocMeta
from rag.library import EDITABLE, Entry, Library, OutlineRow, Pending
from rag.ui import view as ui
from rag.ui.cache import library_context

esc = ui.md_escape
TYPES = ["pdf", "docx", "md", "txt"]
LABELS = {
    "title": "Title",
    "partnership": "Partnership",
    "review": "Review name",
    "review_type": "Review type",
    "kind": "Document kind",
    "year": "Year",
    "aliases": "Other names (comma separated)",
}
# Where each stage of the ingest path sits on a file's bar.
STAGES = {"reading": (0.0, 0.2), "chunking": (0.2, 0.3), "embedding": (0.3, 1.0)}


def password_field(library: Library) -> str | None:
    """The password typed for changes, when the library is locked; None when it is open."""
    if not library.locked:
        return None
    st.caption("Anyone can read the library. Changing it needs the administrator password.")
    return st.text_input("Administrator password", type="password", key="admin_password")


def file_bars() -> Progress:
    """One progress bar per file, through reading, chunking and embedding."""
    area = st.container()
    bars: dict = {}

    def document(doc_id: str, stage: str, done: int, total: int) -> None:
        low, high = STAGES[stage]
        share = done / max(total, 1)
        what = f"{done} of {total} passages" if stage == "embedding" else ""
        text = esc(f"{doc_id}: {stage} {what}".strip())
        if doc_id not in bars:
            bars[doc_id] = area.progress(0.0, text=text)
        bars[doc_id].progress(low + (high - low) * share, text=text)

    return Progress(document=document)


def notices() -> None:
    """What the last action did, shown once after the page reloads."""
    for message in st.session_state.pop("library_errors", []):
        st.error(f"Not added: {esc(message)}")
    if notice := st.session_state.pop("library_notice", None):
        st.success(esc(notice))


def done(notice: str, failures: Iterable = (), saved: str | None = None) -> None:
    """Keep what an action did for the next run, and rerun to show the library as it is now;
    `saved` names the document whose form now shows saved values."""
    st.session_state["library_errors"] = [ui.file_problem(f) for f in failures]
    st.session_state["library_notice"] = notice
    if saved is not None:
        # A new form key, so the fields show the saved values, not what was typed.
        st.session_state[f"saved_{saved}"] = st.session_state.get(f"saved_{saved}", 0) + 1
    st.rerun()


def upload(library: Library, password: str | None) -> None:
    """The uploader: several files at once, read and chunked to be checked; each bad file is
    named, the rest wait below."""
    key = f"uploads_{st.session_state.get('upload_round', 0)}"
    files = st.file_uploader(
        "Add reviews: PDF, Word, Markdown or text", type=TYPES, accept_multiple_files=True, key=key
    )
    if not st.button("Read the files", key="read", disabled=not files):
        return
    try:
        staged = library.stage([(f.name, f.getvalue()) for f in files], password, file_bars())
    except RagError as exc:
        st.error(esc(str(exc)))
        return
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
    read = ", ".join(staged.ids)
    done(f"Read {read}: check what was read below, then add it." if read else "", staged.failures)


def changed_fields(values: Mapping[str, str], shown: Mapping[str, str]) -> dict[str, object]:
    """The fields the person changed, as catalog values; ValueError for a year not a number."""
    # Only what the person changed becomes catalog data; the rest is still read from the text.
    fields: dict[str, object] = {
        k: v.strip() for k, v in values.items() if v.strip() != shown[k].strip()
    }
    if "aliases" in fields:
        fields["aliases"] = [a.strip() for a in values["aliases"].split(",") if a.strip()]
    if "year" in fields:
        year = str(fields["year"])
        if year and not year.isdigit():
            raise ValueError("The year must be a number, such as 2021.")
        fields["year"] = int(year) if year else None
    return fields


def metadata_form(meta: DocMeta, buttons: Mapping[str, str]) -> tuple[str, dict] | None:
    """A form with every metadata field and the `buttons` (key: label); the key of the button
    pressed and the fields changed, or None."""
    ver = st.session_state.get(f"saved_{meta.id}", 0)
    with st.form(f"correct_{meta.id}_{ver}"):
        shown, values = {}, {}
        for name in EDITABLE:
            now = getattr(meta, name)
            shown[name] = ", ".join(now) if name == "aliases" else ("" if now is None else str(now))
            tag = " (read from the text)" if name in meta.inferred else ""
            values[name] = st.text_input(
                LABELS[name] + tag, shown[name], key=f"{name}_{meta.id}_{ver}"
            )
        cols = st.columns(len(buttons))
        pressed = [
            k
            for k, col in zip(buttons, cols)
            if col.form_submit_button(buttons[k], key=f"{k}_{meta.id}")
        ]
    if not pressed:
        return None
    try:
        return pressed[0], changed_fields(values, shown)
    except ValueError as exc:
        st.error(str(exc))
        return None


def outline_table(rows: Iterable[OutlineRow]) -> None:
    """A document's structure: each section, its kind, the roles of its parts, its page."""
    st.dataframe(
        [
            {
                "Section": r.section,
                "Kind": r.kind,
                "Parts": ", ".join(x.replace("_", " ") for x in r.roles),
                "Page": r.page,
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )


def add(library: Library, doc_ids: list[str], password: str | None) -> None:
    """Index waiting uploads, a bar for each, and say what went in."""
    added = library.add_pending(doc_ids, password, file_bars())
    names = ", ".join(added.report.sync.added + added.report.sync.replaced) if added.report else ""
    notice = f"Added: {names}. Chat answers from it now." if names else ""
    done(notice, added.failures, saved=doc_ids[0] if len(doc_ids) == 1 else None)


def pending_item(library: Library, item: Pending, password: str | None) -> None:
    """One waiting upload: what was read from it, its outline, a correction form, add, discard."""
    m = item.meta
    st.markdown(f"**{esc(m.title)}**")
    pages = f" · {item.pages} pages" if item.pages else ""
    read = ", ".join(LABELS.get(f, f) for f in m.inferred) or "nothing"
    about = f"file {item.name} · id {m.id} · {item.chunks} passages{pages}"
    st.caption(esc(f"{about} · read from the text: {read}"))
    outline_table(item.outline)
    got = metadata_form(m, {"check": "Save corrections", "add": "Add to the library"})
    try:
        if got:
            pressed, fields = got
            if fields:
                library.correct(m.id, fields, password)
            if pressed == "add":
                add(library, [m.id], password)
            done(f"Saved the corrections to {m.title}. They apply when it is added.", saved=m.id)
        if st.button("Discard", key=f"discard_{m.id}"):
            library.discard(m.id, password)
            done(f"Discarded {item.name}.")
    except RagError as exc:
        st.error(esc(str(exc)))


def waiting(library: Library, password: str | None) -> None:
    """The uploads read but not yet added, each to check, correct, then add or discard."""
    items, failures = library.pending()
    for failure in failures:
        st.error(f"Cannot be read now: {esc(ui.file_problem(failure))}")
    if not items:
        return
    st.subheader(f"Waiting to be checked: {len(items)}")
    st.caption("Not in the index yet. Check what was read, correct it, then add it.")
    if len(items) > 1 and st.button(f"Add all {len(items)} to the library", key="add_all"):
        try:
            add(library, [i.meta.id for i in items], password)
        except RagError as exc:
            st.error(esc(str(exc)))
    for item in items:
        with st.container(border=True):
            pending_item(library, item, password)


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
    """The metadata form of an indexed document; saving writes the catalog and re-indexes."""
    got = metadata_form(entry.meta, {"save": "Save corrections"})
    if not got:
        return
    try:
        library.correct(entry.meta.id, got[1], password)
    except RagError as exc:
        st.error(esc(str(exc)))
        return
    done(f"Saved the corrections to {entry.meta.title}.", saved=entry.meta.id)


def manage(library: Library, entry: Entry, password: str | None) -> None:
    """Replace the document with a new version, or remove it."""
    m = entry.meta
    new = st.file_uploader("Replace with a new version", type=TYPES, key=f"replace_{m.id}")
    left, right = st.columns(2)
    try:
        if left.button("Replace", key=f"do_replace_{m.id}", disabled=new is None):
            report = library.replace(m.id, new.name, new.getvalue(), password, file_bars())
            done(f"Replaced {m.title} with {new.name}.", report.failures)
        if right.button("Remove from the library", key=f"remove_{m.id}"):
            library.remove(m.id, password)
            done(f"Removed {m.title}.")
    except RagError as exc:
        st.error(esc(str(exc)))


def main() -> None:
    st.title("Library")
    _, _, library = library_context()
    password = password_field(library)
    upload(library, password)
    notices()
    waiting(library, password)
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
                outline_table(library.outline(entry.meta.id))
            with tabs[1]:
                correct_form(library, entry, password)
            with tabs[2]:
                manage(library, entry, password)


main()
