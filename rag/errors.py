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


class IndexMissingError(RagError):
    """No index has been built yet."""

    exit_code = 3


class IndexCorruptError(RagError):
    """The saved index is damaged or was written by another version."""

    exit_code = 3


class IndexMismatchError(RagError):
    """The saved index was built with other settings (model, chunking)."""

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
