"""Every error the user can meet; each message says what to do about it."""
from __future__ import annotations


class RagError(Exception):
    """Base class: the CLI prints the message on one line and exits with `exit_code`."""

    exit_code = 1


class CorpusError(RagError):
    """The corpus folder is missing, empty, or holds nothing readable."""

    exit_code = 2


class BadFileError(RagError):
    """One file cannot be read; it is reported and skipped, the rest are indexed."""

    exit_code = 2  # a corpus problem


class IndexMissingError(RagError):
    """No index has been built yet."""

    exit_code = 3


class IndexCorruptError(RagError):
    """The saved index is damaged or was written by another version."""

    exit_code = 3


class IndexMismatchError(RagError):
    """The saved index was built with other settings (model, chunking)."""

    exit_code = 3


class DiskFullError(RagError):
    """The index's disk has no room for a build (checked before embedding, or found full while writing)."""

    exit_code = 3


class EmbedderError(RagError):
    """The embedding model cannot be loaded or converted."""

    exit_code = 4


class QuestionError(RagError):
    """The question is empty or too long."""

    exit_code = 2


class EvalInputError(RagError):
    """An eval dataset, configuration name or thresholds file is malformed or does not fit the corpus."""

    exit_code = 2


class GateFailed(RagError):
    """An eval metric fell below its minimum or rose above its maximum in the thresholds file."""

    exit_code = 5


class StoreUnavailableError(RagError):
    """The PostgreSQL store (RAG_STORE) cannot be reached or lacks the pgvector extension."""

    exit_code = 3


class SettingsError(RagError):
    """A setting (RAG_* variable or flag) has a value it cannot take."""

    exit_code = 2


class DocumentError(RagError):
    """An uploaded or deleted article is refused: a bad name, unreadable content, the last article (issue 15)."""

    exit_code = 2


class DocumentTooLargeError(DocumentError):
    """An uploaded article is over `upload_max_bytes`."""


class NoSuchDocumentError(DocumentError):
    """An article to delete is not in the corpus folder."""


class MissingExtraError(RagError):
    """A command needs an optional part of the package that is not installed."""

    exit_code = 2


# Which extra of pyproject.toml brings each optional top-level module.
EXTRAS = {
    "torch": "convert", "transformers": "convert", "sentence_transformers": "convert", "onnx": "convert", "safetensors": "convert",
    "gradio": "web", "fastapi": "web", "uvicorn": "web", "watchfiles": "web", "multipart": "web", "python_multipart": "web", "starlette": "web", "swagger_ui_bundle": "web", "langchain_core": "web", "httpx": "web",
    "matplotlib": "eval",
    "langchain_community": "bench", "langchain_huggingface": "bench", "langchain_text_splitters": "bench",
    "psycopg": "pg", "pgvector": "pg",
    "langchain_openai": "llm", "openai": "llm",
}


def missing_extra(exc: ModuleNotFoundError) -> RagError | None:
    """The error to show for an import of an optional module that is not installed, or None if it is not one."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    extra = EXTRAS[top]
    return MissingExtraError(f"this needs the optional `{extra}` part ({top} is not installed): pip install 'rag-ru[{extra}]'")


def settings_error(exc) -> SettingsError:
    """One line for a pydantic ValidationError of the settings: which setting, what is wrong."""
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        parts.append(f"RAG_{name.upper()} (--{name.replace('_', '-')}) = {err.get('input')!r}: {err.get('msg', 'invalid')}")
    return SettingsError("bad setting: " + "; ".join(parts) + " — fix the value (see rag/config.py for each setting)")
