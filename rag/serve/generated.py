"""The chat's side of generated answers (issue 16): the model's text shown as it is written, then the checked
answer with every verified sentence marked and its citation numbers; every text escaped."""
from __future__ import annotations

from collections.abc import Iterator
from html import escape

from rag.answer.extract import Answer
from rag.serve import conversation


def _one_line(text: str) -> str:
    return " ".join(escape(text).split())  # one line of escaped HTML: nothing in it is parsed as Markdown


def render_writing(text: str, t: dict) -> str:
    """The model's text so far, not yet checked."""
    return (f'<div class="rag-answer rag-writing">{_one_line(text)} …</div>'
            f'<div class="rag-checking">{_one_line(t["llm_checking"])}</div>')


def render_sentences(ans: Answer) -> str:
    """The supported sentences, each marked as verified with the numbers of the citations that hold it."""
    out = []
    for s in getattr(ans, "sentences", []):
        if s.supported:
            refs = "".join(f"[{n}]" for n in s.citations)
            out.append(f'<span class="rag-verified">{_one_line(s.text)}<sup>{refs}</sup><span class="rag-check">✓</span></span>')
    return " ".join(out)


def render_notice(notice: str) -> str:
    return f'<div class="rag-notice">{_one_line(notice)}</div>'


def stream_reply(rag, message: str, turns: list, chat: list, t: dict) -> Iterator[tuple]:
    """Yields the chat's (textbox, chat, turns) while the model writes; returns the checked answer."""
    written = ""
    for item in conversation.stream(rag, message, turns):
        if isinstance(item, str):
            written += item
            yield "", [*chat, {"role": "assistant", "content": render_writing(written, t)}], turns
        else:
            return item
    raise AssertionError("the pipeline's stream ends with the answer")
