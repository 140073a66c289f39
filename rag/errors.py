"""Domain errors raised inside rag/; the CLI and UI turn them into messages."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the assistant reports to a user."""


class InvalidQuestion(RagError):
    """The question cannot be answered as asked (empty, or too long)."""


class IndexMissing(RagError):
    """There is no index to search yet."""


class DocumentError(RagError):
    """A single input file could not be ingested; the rest of the corpus still loads."""

    reason = "unreadable"

    def __init__(self, path: str, detail: str = ""):
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {self.reason}" + (f" ({detail})" if detail else ""))


class EncryptedDocument(DocumentError):
    reason = "encrypted PDF; save an unencrypted copy and ingest that"


class CorruptDocument(DocumentError):
    reason = "corrupt or truncated file"


class NeedsOCR(DocumentError):
    reason = "no text layer (image-only PDF); needs OCR"


class EmptyDocument(DocumentError):
    reason = "no text (empty file or zero pages)"


class UnsupportedFormat(DocumentError):
    reason = "unsupported file type; use .md, .txt or .pdf"


class NotUtf8(DocumentError):
    reason = "text is not UTF-8; re-save it as UTF-8"


class TooLarge(DocumentError):
    reason = "file is over the size limit (RAG_MAX_FILE_MB)"


class DuplicateDocument(DocumentError):
    reason = "same content as another document"


class LLMUnavailable(RagError):
    """The configured language model could not be reached; answers fall back to extractive."""


class FeedbackError(RagError):
    """Feedback could not be saved or read (bad path, locked or corrupt database)."""
