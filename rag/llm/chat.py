"""The one seam to language models (the only module importing LangChain's core or a provider):
`settings.llm` becomes a LangChain chat model.

Providers are imported lazily, so the extractive default needs none of them installed:
  ollama:NAME          langchain-ollama (RAG_LLM_BASE_URL, default http://localhost:11434)
  openai:NAME          langchain-openai (RAG_LLM_BASE_URL for vLLM, LM Studio, Azure OpenAI ...)
  llamacpp:/path.gguf  llama-cpp-python, through the small adapter below

A GGUF without a chat template is a base (pretrained) model, such as the Gemma 3 270M the tests
use: it continues text rather than taking turns, so it is given the prompt as plain text.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import ChatPromptTemplate
from pydantic import ConfigDict, PrivateAttr

from rag.core.errors import LLMUnavailable
from rag.core.settings import Settings

# What the other modules of rag.llm name these types by, so none of them imports LangChain.
ChatModel = BaseChatModel
PromptTemplate = ChatPromptTemplate

PROVIDERS = ("ollama", "openai", "llamacpp")
_EXTRA = {"ollama": "ollama", "openai": "openai", "llamacpp": "llamacpp"}
# A local OpenAI-compatible server (vLLM, LM Studio) ignores the key, but the client needs one.
_PLACEHOLDER_KEY = "not-needed"


@dataclass(frozen=True)
class LLMSpec:
    """A parsed `settings.llm`: the provider and the model name or GGUF path."""

    provider: str
    name: str


def parse_llm(value: str) -> LLMSpec:
    """Split 'provider:name' and check the provider; LLMUnavailable when it cannot be used."""
    provider, sep, name = (value or "").strip().partition(":")
    provider = provider.strip().lower()
    name = name.strip()
    if not sep or provider not in PROVIDERS or not name:
        raise LLMUnavailable(
            f"RAG_LLM={value!r} is not understood; use ollama:MODEL, openai:MODEL or "
            "llamacpp:/path/to/model.gguf"
        )
    return LLMSpec(provider, name)


def _missing(provider: str, package: str) -> LLMUnavailable:
    return LLMUnavailable(
        f"RAG_LLM uses {provider}, but {package} is not installed; "
        f'install it with: pip install -e ".[{_EXTRA[provider]}]"'
    )


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model `settings.llm` names, configured for short, deterministic answers."""
    spec = parse_llm(settings.llm or "")
    if spec.provider == "ollama":
        return _ollama(spec, settings)
    if spec.provider == "openai":
        return _openai(spec, settings)
    return _llamacpp(spec, settings)


def _ollama(spec: LLMSpec, settings: Settings) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise _missing("ollama", "langchain-ollama") from exc
    return ChatOllama(
        model=spec.name,
        base_url=settings.llm_base_url,
        temperature=settings.llm_temperature,
        seed=0,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout},
    )


def _openai(spec: LLMSpec, settings: Settings) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise _missing("openai", "langchain-openai") from exc
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    key = key or os.environ.get("OPENAI_API_KEY")
    if not key and not settings.llm_base_url:
        raise LLMUnavailable(
            f"RAG_LLM={settings.llm} needs an API key: set RAG_LLM_API_KEY (or OPENAI_API_KEY), "
            "or RAG_LLM_BASE_URL for a local OpenAI-compatible server"
        )
    return ChatOpenAI(
        model=spec.name,
        base_url=settings.llm_base_url,
        api_key=key or _PLACEHOLDER_KEY,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        max_retries=1,
    )


def _llamacpp(spec: LLMSpec, settings: Settings) -> BaseChatModel:
    path = Path(spec.name).expanduser()
    if not path.is_file():
        raise LLMUnavailable(f"RAG_LLM names a GGUF file that does not exist: {path}")
    try:
        import llama_cpp
    except ImportError as exc:
        raise _missing("llamacpp", "llama-cpp-python") from exc
    try:
        # Threads: llama.cpp's default (half the cores); more spin-waits badly on a busy machine.
        llama = llama_cpp.Llama(model_path=str(path), n_ctx=8192, seed=0, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise LLMUnavailable(f"llama.cpp could not load {path}: {exc}") from exc
    # No chat template: a base model. Wrapped in chat turns it repeats the prompt (measured
    # with Gemma 3 270M: 446 of 446 sentences failed, most of them echoes), so it continues
    # the prompt as plain text instead.
    return LlamaCppChat(
        llama=llama,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        model_name=path.name,
        plain="tokenizer.chat_template" not in llama.metadata,
    )


_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """A thin LangChain chat model over an in-process llama_cpp.Llama."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llama: Any
    max_tokens: int = 400
    temperature: float = 0.0
    seed: int = 0
    model_name: str = "gguf"
    # A base model: the messages are joined into one text for it to continue (see _prompt).
    plain: bool = False
    # One llama.cpp context cannot serve two generations at once (the UI has threads).
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def _sampling(self, stop: list[str] | None, max_tokens: int | None) -> dict:
        return dict(
            max_tokens=min(max_tokens or self.max_tokens, self.max_tokens),
            temperature=self.temperature,
            # Greedy unless a temperature is set: top_k=1 leaves one candidate token.
            top_k=1 if self.temperature <= 0 else 40,
            seed=self.seed,
            stop=stop or None,
        )

    def _call(self, messages: Sequence[BaseMessage], stop, stream: bool, max_tokens=None):
        sampling = self._sampling(stop, max_tokens)
        if self.plain:
            return self.llama.create_completion(_prompt(messages), **sampling, stream=stream)
        turns = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        return self.llama.create_chat_completion(messages=turns, **sampling, stream=stream)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            out = self._call(messages, stop, False, kwargs.get("max_tokens"))
        choice = out["choices"][0]
        text = choice["text"] if self.plain else choice["message"].get("content") or ""
        meta = {"finish_reason": choice.get("finish_reason")}
        message = AIMessage(content=text or "", response_metadata=meta)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            for part in self._call(messages, stop, True, kwargs.get("max_tokens")):
                choice = part["choices"][0]
                piece = choice["text"] if self.plain else choice["delta"].get("content")
                meta = (
                    {"finish_reason": choice["finish_reason"]}
                    if choice.get("finish_reason")
                    else {}
                )
                if piece or meta:
                    if run_manager and piece:
                        run_manager.on_llm_new_token(piece)
                    chunk = AIMessageChunk(content=piece or "", response_metadata=meta)
                    yield ChatGenerationChunk(message=chunk)


def _prompt(messages: Sequence[BaseMessage]) -> str:
    """The messages as one text for a base model to continue: system and user texts in order,
    then any closing assistant text (the start of the answer) on the same line."""
    head = [str(m.content).strip() for m in messages if m.type != "ai"]
    text = "\n\n".join(t for t in head if t)
    if messages and messages[-1].type == "ai":
        text += " " + str(messages[-1].content).strip()
    return text


def continues_text(model: BaseChatModel) -> bool:
    """True for a base model that continues the prompt (a llama.cpp GGUF with no chat template)."""
    return bool(getattr(model, "plain", False))


@dataclass(frozen=True)
class Reply:
    """A model's reply, and whether it was cut short by the token limit."""

    text: str
    truncated: bool = False


def _truncated(meta: dict) -> bool:
    # OpenAI-compatible servers and llama.cpp say finish_reason, Ollama says done_reason.
    return "length" in (meta.get("finish_reason"), meta.get("done_reason"))


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    # Some providers return a list of content blocks; keep only their text.
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)


def _budget(model: BaseChatModel, max_tokens: int | None) -> dict:
    # A smaller token budget for one call; only the llama.cpp adapter takes it per call.
    return {"max_tokens": max_tokens} if max_tokens and isinstance(model, LlamaCppChat) else {}


def complete(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    stop: list[str] | None = None,
    max_tokens: int | None = None,
) -> Reply:
    """The model's reply (at most `max_tokens` long, where the provider allows a per-call
    limit); any provider failure becomes LLMUnavailable."""
    try:
        message = model.invoke(list(messages), stop=stop, **_budget(model, max_tokens))
    except LLMUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - providers raise many types; all mean "unavailable"
        raise LLMUnavailable(f"the language model did not answer: {_reason(exc)}") from exc
    return Reply(_text(message), _truncated(message.response_metadata or {}))


def generate(model: BaseChatModel, messages: Sequence[BaseMessage]) -> str:
    """The model's reply as text; any provider failure becomes LLMUnavailable."""
    return complete(model, messages).text


def stream(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    stop: list[str] | None = None,
    ending: dict | None = None,
    max_tokens: int | None = None,
) -> Iterator[str]:
    """The model's reply as text pieces while it is generated; failures become LLMUnavailable.

    `ending`, when given, gets "truncated": True when the reply was cut short."""
    try:
        for chunk in model.stream(list(messages), stop=stop, **_budget(model, max_tokens)):
            if ending is not None and _truncated(chunk.response_metadata or {}):
                ending["truncated"] = True
            piece = _text(chunk)
            if piece:
                yield piece
    except LLMUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - as in complete()
        raise LLMUnavailable(f"the language model did not answer: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def chat_prompt(sections: Sequence[tuple[str, str]]) -> ChatPromptTemplate:
    """A chat prompt from (role, template) pairs; roles are system, human and ai."""
    return ChatPromptTemplate.from_messages(list(sections))
