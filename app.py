"""Chat over the published reviews for frontline staff; it only renders, decisions live in rag/.

All document and user text goes through `ui.md_escape`, so it shows as text, never as HTML.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import streamlit as st

from rag.assistant import Assistant, CorpusInfo, Exchange, Resolved, SentenceCheck
from rag.core.errors import RagError
from rag.core.models import Answer, Citation, Filters
from rag.core.settings import Settings
from rag.ui import view as ui
from rag.ui.cache import load_assistant
from rag.ui.feedback import REASONS, FeedbackStore

esc = ui.md_escape


def clear_conversation() -> None:
    st.session_state["turns"] = []
    st.session_state.pop("pending", None)


def ask_example(question: str) -> None:
    st.session_state["pending"] = question


def release(turn: dict) -> None:
    turn["released"] = True


def rate(turn: dict, store: FeedbackStore) -> None:
    value = st.session_state.get(f"rating_{turn['id']}")
    if value is None:
        return
    rating = "up" if value == 1 else "down"
    try:
        if turn.get("saved"):
            turn["saved"] = store.update(turn["saved"].id, rating=rating)
        else:
            turn["saved"] = store.record(turn["answer"], rating, question=turn["question"])
        turn["feedback_error"] = None
    except RagError as exc:
        turn["feedback_error"] = str(exc)


def save_reason(turn: dict, store: FeedbackStore) -> None:
    tid = turn["id"]
    reason = st.session_state.get(f"reason_{tid}")
    comment = (st.session_state.get(f"comment_{tid}") or "").strip() or None
    try:
        turn["saved"] = store.update(turn["saved"].id, reason=reason, comment=comment)
        turn["reason_saved"] = True
        turn["feedback_error"] = None
    except RagError as exc:
        turn["feedback_error"] = str(exc)


def render_card(tid: int, citation: Citation, assistant: Assistant) -> None:
    c = ui.card(citation)
    with st.container(border=True, key=f"card_{tid}_{c.n}"):
        details = "".join(f" · {esc(x)}" for x in (c.partnership, c.kind) if x)
        st.markdown(f"**[{c.n}] {esc(c.review)}**{details}")
        st.caption(esc(c.title))
        st.caption("Section: " + esc(c.location))
        st.markdown("> " + esc(c.quote))
        with st.expander("Whole passage, quote highlighted"):
            st.markdown(ui.passage_markdown(citation))
        if st.toggle("View in document", key=f"doc_{tid}_{c.n}"):
            window = ui.context_window(assistant.document_text(c.document), citation)
            st.caption(f"{esc(c.document)}: {window.position}")
            with st.container(height=340, key=f"context_{tid}_{c.n}"):
                st.markdown(window.markdown)


def show_more(key: str, turn: dict, assistant: Assistant) -> None:
    # The reviews held back are quoted now, once: the turn keeps the answer that quotes them.
    turn["answer"] = assistant.all_reviews(turn["answer"])
    st.session_state[key] = True


def render_groups(turn: dict, answer: Answer, assistant: Assistant) -> None:
    """An answer across reviews: one box per review with its quotes, the rest on request."""
    st.markdown(esc(ui.lead_in(answer)))
    key = ui.more_key(answer)
    for i, group in enumerate(ui.visible_groups(answer, st.session_state.get(key, False))):
        with st.container(border=True, key=f"group_{turn['id']}_{i}"):
            st.markdown(f"**{esc(ui.group_heading(group))}**")
            for c in group.citations:
                render_card(turn["id"], c, assistant)
    if (label := ui.more_label(answer)) and not st.session_state.get(key, False):
        st.button(label, key=f"more_{turn['id']}", on_click=show_more, args=(key, turn, assistant))


def render_feedback(turn: dict, store: FeedbackStore) -> None:
    tid = turn["id"]
    st.feedback("thumbs", key=f"rating_{tid}", on_change=rate, args=(turn, store))
    if turn.get("feedback_error"):
        st.error("Feedback not saved: " + esc(turn["feedback_error"]))
    saved = turn.get("saved")
    if not saved:
        return
    note = "Feedback saved, thank you."
    if saved.question_withheld:
        note += " The question was not stored because it appeared to contain personal details."
    if saved.comment_withheld:
        note += " Your comment was not stored because it appeared to contain personal details."
    if turn.get("reason_saved"):
        st.caption(note + " Reason saved.")
        return
    st.caption(note)
    with st.container(key=f"reason_box_{tid}"):
        st.selectbox(
            "Reason (optional)", REASONS, index=None, key=f"reason_{tid}", placeholder="Choose…"
        )
        st.text_input("Anything else? (optional, no personal details)", key=f"comment_{tid}")
        st.button("Send reason", key=f"send_{tid}", on_click=save_reason, args=(turn, store))


def render_written(answer) -> None:
    # Sentences that failed verification are shown only in flag mode, and then marked in red.
    parts = [
        esc(w.text) if w.verified else f":red-background[{esc(w.text)}]"
        for w in ui.written_sentences(answer)
    ]
    st.markdown(" ".join(parts))


def render_answer(turn: dict, assistant: Assistant, info: CorpusInfo, store: FeedbackStore) -> None:
    answer = turn["answer"]
    if answer.abstained:
        st.markdown("**I can't answer that from the reviews.**")
        st.markdown(esc(answer.text))
        for line in ui.abstention_advice(answer, info, turn["resolved"].filters):
            st.markdown("- " + esc(line))
    elif answer.groups:
        render_groups(turn, answer, assistant)
        for note in answer.notes:
            st.caption(esc(note))
    else:
        if answer.mode == "llm":
            render_written(answer)
        else:
            st.markdown(esc(ui.lead_in(answer)))
        for c in answer.citations:
            st.markdown("> " + esc(ui.card(c).quote) + f" **[{c.n}]**")
        if summary := ui.check_summary(answer):
            st.info(esc(summary))
        for note in answer.notes:
            st.caption(esc(note))
        st.markdown("**Sources**")
        for c in answer.citations:
            render_card(turn["id"], c, assistant)
    render_feedback(turn, store)


def render_draft(placeholder, checks: list[SentenceCheck]) -> None:
    # Plain grey text with no citation numbers: a draft must never look verified.
    with placeholder.container():
        st.caption(esc(ui.draft_status(checks)))
        for sentence in ui.draft_sentences(checks):
            st.caption(esc(sentence))


def answer_streaming(turn: dict, assistant: Assistant) -> None:
    """Ask, showing a language model's draft until the checked answer replaces it."""
    draft = st.empty()
    checks: list[SentenceCheck] = []
    with st.spinner("Searching the reviews…"):
        try:
            for event in assistant.stream_respond(turn["turn"], answer_id=str(turn["id"])):
                if isinstance(event, Answer):
                    turn["answer"] = event
                else:
                    checks.append(event)
                    render_draft(draft, checks)
        except RagError as exc:
            turn["error"] = str(exc)
    draft.empty()


def render_turn(turn: dict, assistant: Assistant, info: CorpusInfo, store: FeedbackStore) -> None:
    resolved = turn["resolved"]
    with st.chat_message("user"):
        st.markdown(esc(turn["question"]))
        if resolved.followup:
            scope = ui.filter_summary(resolved.filters)
            scope = f" ({esc(scope)})" if scope else ""
            st.caption(f"Follow-up, understood as: {esc(resolved.query)}{scope}")
    with st.chat_message("assistant"):
        if turn["findings"] and not turn["released"]:
            st.warning(esc(ui.personal_details_warning(turn["findings"])))
            st.button(
                "Answer anyway (the question will not be stored)",
                key=f"anyway_{turn['id']}",
                on_click=release,
                args=(turn,),
            )
            return
        if turn["findings"]:
            st.caption(
                "Personal details were removed before searching, and this question is not "
                "stored, even with feedback. Searched for: " + esc(resolved.query)
            )
        if turn["answer"] is None and turn["error"] is None:
            answer_streaming(turn, assistant)
        if turn["error"]:
            st.error(esc(turn["error"]))
            return
        render_answer(turn, assistant, info, store)


def sidebar(info: CorpusInfo) -> Filters:
    with st.sidebar:
        st.caption(ui.NOTICE)
        st.header("Filters")
        partnerships = st.multiselect("Partnership", info.partnerships, key="filter_partnership")
        reviews = st.multiselect("Review", info.reviews, key="filter_review")
        kinds = st.multiselect("Document kind", info.kinds, key="filter_kind")
        st.button("Clear conversation", key="clear", on_click=clear_conversation)
        with st.expander("About this corpus"):
            st.caption(f"{len(info.documents)} documents, {info.chunks} chunks in the index.")
            for d in info.documents:
                m = d.meta
                st.markdown(f"**{esc(m.title)}**")
                facts = [m.review, m.partnership, m.review_type, m.kind, m.year, m.source]
                facts = [esc(str(x)) for x in facts if x] + [f"{d.chunks} chunks"]
                st.caption(" · ".join(facts) + f" · id {esc(m.id)}")
    return Filters(partnerships=tuple(partnerships), reviews=tuple(reviews), kinds=tuple(kinds))


def new_turn(assistant: Assistant, question: str, turns: list[dict], filters: Filters) -> dict:
    """A turn for the conversation: prepared by the assistant (personal details found and
    removed, a follow-up resolved), or holding the error that stopped it."""
    history = [Exchange(t["resolved"], t["answer"]) for t in turns if t["released"]]
    st.session_state["next_id"] = tid = st.session_state.get("next_id", 0) + 1
    turn = {"id": tid, "question": question, "answer": None, "error": None, "findings": ()}
    turn["released"] = True
    llm = assistant.settings.llm and history
    try:
        with st.spinner("Reading the conversation…") if llm else nullcontext():
            prepared = assistant.prepare(question, history, filters)
    except RagError as exc:
        return turn | {"resolved": Resolved(question, question, filters), "error": str(exc)}
    findings = prepared.findings
    return turn | {
        "turn": prepared,
        "resolved": prepared.resolved,
        "findings": findings,
        "released": not findings,
    }


def main() -> None:
    st.title("Learning from safeguarding reviews")
    st.info(ui.NOTICE)
    settings = Settings()
    assistant = load_assistant(settings, settings.model_dump_json())
    if assistant.generation() is None:
        st.error(
            "There is no index yet. Build it with `make index` (or `rag ingest`), then reload."
        )
        st.stop()
    info = assistant.corpus()
    try:
        store = FeedbackStore.from_settings(settings)
    except RagError as exc:
        st.error(esc(str(exc)))
        st.stop()
    filters = sidebar(info)

    turns: list[dict] = st.session_state.setdefault("turns", [])
    typed = st.chat_input("Ask about the reviews' recommendations", key="question")
    pending = st.session_state.pop("pending", None)
    question = (typed or pending or "").strip()
    if question:
        turns.append(new_turn(assistant, question, turns, filters))

    if not turns:
        st.markdown("**Try one of these questions:**")
        cols = st.columns(2)
        for i, example in enumerate(ui.EXAMPLE_QUESTIONS):
            cols[i % 2].button(
                example,
                key=f"example_{i}",
                on_click=ask_example,
                args=(example,),
                width="stretch",
            )
    for turn in turns:
        render_turn(turn, assistant, info, store)


# Not "pages/": Streamlit would list that folder itself and ignore st.navigation.
PAGES = Path(__file__).resolve().parent / "views"
st.set_page_config(page_title="Learning from safeguarding reviews", page_icon="📘")
st.navigation(
    [
        st.Page(main, title="Chat", url_path="chat", default=True),
        st.Page(PAGES / "library.py", title="Library", url_path="library"),
        st.Page(PAGES / "briefing_builder.py", title="Briefing builder"),
        st.Page(PAGES / "theme_explorer.py", title="Theme explorer"),
    ]
).run()
