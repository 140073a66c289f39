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
    """A PDF that needs a password."""

    reason = "encrypted PDF; save an unencrypted copy and ingest that"


class CorruptDocument(DocumentError):
    """A file its reader cannot parse."""

    reason = "corrupt or truncated file"


class NeedsOCR(DocumentError):
    """A PDF of page images with no text layer."""

    reason = "no text layer (image-only PDF); needs OCR"


class EmptyDocument(DocumentError):
    """A file with no text at all."""

    reason = "no text (empty file or zero pages)"


class UnsupportedFormat(DocumentError):
    """A file type ingest does not read."""

    reason = "unsupported file type; use .md, .txt, .pdf or .docx"


class NotUtf8(DocumentError):
    """A text file in another encoding."""

    reason = "text is not UTF-8; re-save it as UTF-8"


class TooLarge(DocumentError):
    """A file over the configured size limit."""

    reason = "file is over the size limit (RAG_MAX_FILE_MB)"


class DuplicateDocument(DocumentError):
    """A file whose text another ingested file already has."""

    reason = "same content as another document"


class CatalogError(RagError):
    """A catalog file, or one of its entries, that cannot be used as written."""

    def __init__(self, path: str, detail: str):
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail}")


class LLMUnavailable(RagError):
    """The configured language model could not be reached; answers fall back to extractive."""


class FeedbackError(RagError):
    """Feedback could not be saved or read (bad path, locked or corrupt database)."""
