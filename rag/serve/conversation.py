"""Follow-up questions in the chat and the API: made standalone (rag/answer/followup.py), then answered."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from rag.answer.extract import Answer
from rag.answer.followup import resolve
from rag.pipeline import RAG


def standalone(rag: RAG, question: str, history: Iterable[Mapping[str, str]] = ()) -> str:
    """The question to ask the pipeline: `resolve`d, unless that would be refused (then the user's own words)."""
    resolved = resolve(question, history)
    if not question.strip() or len(resolved) > rag.settings.max_question_chars:
        return question  # the pipeline refuses it with the user's own words
    return resolved


def ask(rag: RAG, question: str, history: Iterable[Mapping[str, str]] = ()) -> Answer:
    """Answer a question in its conversation; `Answer.question` is the question as understood."""
    return rag.ask(standalone(rag, question, history))
