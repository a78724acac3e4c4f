"""The HTML the browser is sent: questions, answers with their numbered citations, notices, the source viewer
page and the widget demo page, in the UI language's texts (rag/data/ui.toml). Every text from documents and users
is escaped here; ui.py puts these pieces into the Gradio chat."""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import quote

from rag.answer.extract import Answer, Citation
from rag.answer.metadata import human_date
from rag.config import Settings
from rag.ingest.corpus import Document
from rag.serve import generated
from rag.serve.generated import one_line

STATIC = Path(__file__).parent / "static"
UI_TEXTS = Path(__file__).parent.parent / "data" / "ui.toml"


@cache
def all_texts() -> dict[str, dict]:
    return tomllib.loads(UI_TEXTS.read_text(encoding="utf-8"))


def ui_texts(lang: str = "ru") -> dict:
    """The UI texts of one language (ru if it has none)."""
    return all_texts().get(lang, all_texts()["ru"])


def languages() -> list[str]:
    return [lang for lang in all_texts() if lang != "gradio"]


def source_link(settings: Settings, c: Citation) -> str:
    """The source viewer's URL for a citation, with the prefix and the span; the access token travels in the
    HttpOnly cookie, never in a link someone might share."""
    return f"{settings.root_path}/sources/{quote(c.source)}?start={c.start}&end={c.end}#cited"


def render_question(question: str) -> str:
    return f'<div class="rag-q">{one_line(question)}</div>'


def render_citation(i: int, c: Citation, t: dict, settings: Settings) -> str:
    """One numbered source: its label linking to the highlighted passage, the file, the quote (folded on phones)."""
    label = citation_label(c)
    file = f'<span class="rag-file rag-cite-file">{one_line(c.source)}</span>' if label != c.source else ""
    heading = (f'<span class="rag-cite-heading">{one_line(t["section"].format(heading=c.heading))}</span>'
               if c.heading and c.heading != c.title else "")
    return (
        f'<li id="rag-src-{i}"><a class="rag-cite" href="{escape(source_link(settings, c))}" target="_blank" rel="noopener" '
        f'aria-label="{escape(t["open_source_n"].format(n=i, label=label))}">{one_line(label)}</a>{file}{heading}'
        f'<details class="rag-quote-box"><summary class="rag-quote">«{one_line(c.quote)}»</summary>'
        f'<span class="rag-quote-full">«{generated.paragraphs(c.quote)}»</span></details></li>'
    )


def _understood(ans_question: str, rewritten: bool, t: dict) -> str:
    return f'<div class="rag-understood">{one_line(t["understood_as"].format(question=ans_question))}</div>' if rewritten else ""


def render_pending(t: dict, understood: str | None = None) -> str:
    """While the articles are searched: the question as understood (only when rewritten) and «ищу в статьях…»."""
    return f'{_understood(understood, True, t) if understood else ""}<div class="rag-status" role="status">{one_line(t["searching"])}</div>'


def render_answer(ans: Answer, t: dict, settings: Settings, rewritten: bool, decided_ms: float | None = None, sources: bool = True) -> str:
    """An answer as HTML in which every text from documents and users is escaped: [1]-style markers after the
    answer, then (once `sources`) the numbered sources, a copy button. `decided_ms` (epoch ms) lets the browser
    tests measure how soon the text is on screen."""
    parts = [_understood(ans.question, rewritten, t)]
    if ans.abstained:
        parts.append(f'<div class="rag-abstain"><span class="rag-abstain-title">{one_line(t["abstain"])}</span><br>{one_line(t["abstain_hint"])}</div>')
        return "".join(parts)
    llm = getattr(ans, "mode", None) == "llm"  # issue 16: each verified sentence carries its own citation numbers
    markers = "" if llm else "".join(f'<sup class="rag-marker">[{i}]</sup>' for i in range(1, len(ans.citations) + 1))
    # The sanitizer keeps classes only: the moment the answer was decided rides in one (epoch ms).
    stamp = f" rag-decided-{decided_ms:.0f}" if decided_ms is not None else ""
    parts.append(f'<div class="rag-answer{stamp}">{generated.answer_html(ans)}{markers}</div>{generated.notice_html(ans)}')
    if sources and ans.citations:
        items = "".join(render_citation(i, c, t, settings) for i, c in enumerate(ans.citations, 1))
        parts.append(f'<div class="rag-sources"><span>{one_line(t["sources"])}</span><ol>{items}</ol></div>')
        parts.append(f'<button type="button" class="rag-copy">{one_line(t["copy"])}</button>')
    return "".join(parts)


def citation_label(c: Citation) -> str:
    """What a citation is called: «Sputnik · 3 апреля 2024 · Казахстан придерживается принципа…», the parts the
    document has; its file name when it has none."""
    return " · ".join(part for part in (c.outlet, human_date(c.date), c.title) if part) or c.source


def render_error(message: str, t: dict) -> str:
    return f'<div class="rag-error">{one_line(t["error"].format(message=message))}</div>'


@cache
def template(name: str) -> Template:
    return Template((STATIC / name).read_text(encoding="utf-8"))


def render_source(doc: Document, start: int | None, end: int | None, lang: str, settings: Settings) -> str:
    """The cleaned article as HTML, every text escaped, the span [start, end) in <mark>, the first one id="cited"."""
    t = ui_texts(lang)
    text = doc.text
    span = (start, end) if start is not None and end is not None and 0 <= start < end <= len(text) else (len(text), len(text))
    paragraphs = []
    for i, (a, b) in enumerate(doc.paragraphs):
        if i == 0 and text[a:b] == doc.title and span[0] >= b:
            continue  # the title is the heading already
        tag = "h2" if (a, b) in doc.headings else "p"  # a document's own headings stay headings
        x, y = max(a, span[0]), min(b, span[1])
        if x >= y:
            paragraphs.append(f"<{tag}>{escape(text[a:b])}</{tag}>")
            continue
        mark_id = ' id="cited"' if x == span[0] else ""
        paragraphs.append(f"<{tag}>{escape(text[a:x])}<mark{mark_id}>{escape(text[x:y])}</mark>{escape(text[y:b])}</{tag}>")
    meta = [(t["source_outlet"], doc.outlet), (t["source_date"], human_date(doc.date, doc.date_inferred)),
            (t["source_author"], doc.author), (t["source_dateline"], doc.dateline), (t["source_file"], doc.source)]
    return template("source.html").substitute(
        lang=escape(t["lang"]), root=escape(settings.root_path), title=escape(doc.title or doc.source),
        kind=escape(t["source_title"]), jump=escape(t["source_jump"]) if span[0] < len(text) else "",
        meta="".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in meta if v),
        body="\n".join(paragraphs),
    )


def render_demo(q: Mapping[str, str], settings: Settings, base_url: str) -> str:
    """The widget demo page: a plain page that embeds the widget with the one-line snippet (to copy, so with this
    server's address); `q` picks its options."""
    lang = q.get("lang") if q.get("lang") in languages() else "ru"
    t = ui_texts(lang)
    attrs = {"data-lang": lang, **{f"data-{k}": q[k] for k in ("title", "position", "color", "text-color") if q.get(k)}}
    if settings.access_token:
        attrs["data-token"] = settings.access_token  # only someone who gave the token sees this page
    snippet = f'<script src="{escape(base_url)}/widget.js" defer' + "".join(f' {k}="{escape(v)}"' for k, v in attrs.items()) + "></script>"
    return template("widget-demo.html").substitute(
        lang=escape(lang), root=escape(settings.root_path), title=escape(t["demo_title"]), intro=escape(t["demo_intro"]),
        hint=escape(t["demo_hint"]), snippet_text=escape(snippet), snippet=snippet,
    )
