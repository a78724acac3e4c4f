"""The chat's side of generated answers (issue 16): the model's text shown as it is written (not checked yet),
then the checked answer with every verified sentence marked ✓ and the numbers of the citations that hold it,
and the one-line notice of llm mode. Every text is escaped."""
from __future__ import annotations

from html import escape

from rag.answer.extract import Answer


def one_line(text: str) -> str:
    """Escaped HTML on a single line: one HTML block for the Markdown renderer, so nothing in it is parsed as
    Markdown. A lone surrogate (from a broken client) cannot go out as UTF-8: shown as "?"."""
    return " ".join(escape(text.encode("utf-8", "replace").decode("utf-8")).split())


def paragraphs(text: str) -> str:
    """A quote of several paragraphs (a list with the sentence that introduces it) on one line, a <br> between
    its paragraphs, so the items do not run together: paragraphs("Поставьте:\n\nautoconf") == "Поставьте:<br>autoconf"."""
    return "<br>".join(one_line(p) for p in text.split("\n\n") if p.strip())


def render_writing(text: str, t: dict) -> str:
    """The model's text so far, marked as not checked yet."""
    writing = f'<div class="rag-answer rag-writing">{one_line(text)} …</div>' if text else ""
    return f'{writing}<div class="rag-checking" role="status">{one_line(t["llm_checking"])}</div>'


def answer_html(ans: Answer) -> str:
    """The answer's text: in llm mode its supported sentences, each marked as verified with its citations'
    numbers; otherwise the (quoted) answer."""
    if getattr(ans, "mode", None) != "llm":
        return paragraphs(ans.answer)
    marked = []
    for s in ans.sentences:
        if s.supported:
            refs = "".join(f"[{n}]" for n in s.citations)
            marked.append(f'<span class="rag-verified">{one_line(s.text)}<sup>{refs}</sup><span class="rag-check">✓</span></span>')
    return " ".join(marked)


def notice_html(ans: Answer) -> str:
    """Why llm mode shows the quote, or how many sentences were removed; nothing otherwise."""
    notice = getattr(ans, "notice", None)
    return f'<div class="rag-notice">{one_line(notice)}</div>' if notice else ""
