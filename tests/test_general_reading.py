"""Question reading on general mechanisms, over a synthetic review with no catalog entry.

A word in another form ("home educated" / "home education") is a word the review uses; a
person's name is a personal detail, warned about and left out of the search, never a reason
to abstain.
"""

from __future__ import annotations

import pytest

from rag.assistant import Assistant
from rag.understand import privacy
from tests.conftest import make_settings

REVIEW = """# Local practice review: Child N

This fictional review was written for a test.

## Findings

Finding 1: When a parent chooses elective home education, the school should tell the local
authority the same day and share any safeguarding concerns it holds about the child.

Finding 2: Parents were not told that sharing a bed with a baby after drinking alcohol raises
the risk of sudden infant death; safer sleep advice was given once, at the birth, and never
repeated by the health visitor.

Finding 3: The family's housing officer saw the damp flat on four visits and did not refer.
"""


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder):
    tmp = tmp_path_factory.mktemp("general")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "child-n.md").write_text(REVIEW)
    a = Assistant(make_settings(tmp, corpus_dir=corpus), embedder=embedder)
    a.ingest()
    return a


def test_a_word_in_another_form_is_not_a_never_mentioned_topic(assistant):
    q = "What should happen when a child is taken out of school to be home educated?"
    info = assistant.retriever.understand(q)
    assert "home educated" not in info.unknown_names
    answer = assistant.ask(q)
    assert not answer.abstained
    assert any("home education" in c.quote.text for c in answer.citations)


def test_a_topic_the_review_never_uses_still_abstains(assistant):
    answer = assistant.ask("What does the review say about female genital mutilation?")
    assert answer.abstained and not answer.citations


def test_a_persons_name_is_warned_about_removed_and_never_a_reason_to_abstain(assistant):
    q = "Jane Smith's baby sleeps in her bed with her - what do the reviews say about co-sleeping?"
    turn = assistant.prepare(q)
    assert [f.kind for f in turn.findings] == ["name"]
    assert "Smith" not in turn.resolved.query
    for answer in (assistant.respond(turn), assistant.ask(q)):
        assert not answer.abstained, answer.text
        assert any("sharing a bed" in c.quote.text for c in answer.citations)


def test_a_review_named_after_a_child_is_not_a_personal_detail():
    q = "What did the Arthur Jones review recommend?"
    assert privacy.find_personal_details(q) == ()
    assert privacy.find_personal_details("What about Ellie Hart?", ["Ellie Hart"]) == ()
    assert [f.kind for f in privacy.find_personal_details("Is Ellie Hart safe?")] == ["name"]


def test_the_cli_warns_about_a_name_in_a_question(assistant, monkeypatch):
    from click.testing import CliRunner

    import rag.cli

    monkeypatch.setattr(rag.cli, "_assistant", lambda settings: assistant)
    got = CliRunner().invoke(
        rag.cli.cli, ["ask", "Tom Baker's mum drinks - what about sharing a bed with a baby?"]
    )
    assert got.exit_code == 0, got.output
    assert "a person's name" in got.stderr
    assert "sharing a bed" in got.stdout
