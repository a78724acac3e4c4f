"""What the browser shows: the Gradio 6 chat (full page or embed mode) with streamed, cited answers, the source
viewer page, the widget demo page and widget.js. Every text from documents and users is escaped."""
from __future__ import annotations

import json
import os
import time
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import quote

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry, no update check

import gradio as gr

from rag.answer.extract import Answer, Citation
from rag.config import Settings
from rag.errors import QuestionError
from rag.ingest.corpus import Document
from rag.pipeline import RAG
from rag.serve import conversation, generated

STATIC = Path(__file__).parent / "static"
UI_TEXTS = Path(__file__).parent.parent / "data" / "ui.toml"
STREAM_STEPS = 12  # the answer appears in this many growing pieces
STREAM_DELAY = 0.03  # seconds between pieces: visibly streaming, done in well under half a second


@cache
def _all_texts() -> dict[str, dict]:
    return tomllib.loads(UI_TEXTS.read_text(encoding="utf-8"))


def ui_texts(lang: str = "ru") -> dict:
    """The UI texts of one language (ru if it has none)."""
    return _all_texts().get(lang, _all_texts()["ru"])


def languages() -> list[str]:
    return list(_all_texts())


def source_link(settings: Settings, c: Citation) -> str:
    """The source viewer's URL for a citation, with the prefix, the span, and the token when one is set."""
    token = f"&token={quote(settings.access_token)}" if settings.access_token else ""
    return f"{settings.root_path}/sources/{quote(c.source)}?start={c.start}&end={c.end}{token}#cited"


def _one_line(text: str) -> str:
    # A single line of escaped HTML is one HTML block for the Markdown renderer: nothing in it is parsed as Markdown.
    return " ".join(escape(text).split())


def render_question(question: str) -> str:
    return f'<div class="rag-q">{_one_line(question)}</div>'


def render_answer(ans: Answer, t: dict, settings: Settings, asked: str, shown: str | None = None) -> str:
    """An answer as HTML in which every text from documents and users is escaped.
    `shown` is the part of the answer streamed so far (citations come with the whole answer)."""
    parts = []
    if ans.question != asked:
        parts.append(f'<div class="rag-understood">{_one_line(t["understood_as"].format(question=ans.question))}</div>')
    if ans.abstained:
        parts.append(f'<div class="rag-abstain"><span class="rag-abstain-title">{_one_line(t["abstain"])}</span><br>{_one_line(t["abstain_hint"])}</div>')
        return "".join(parts)
    verified = shown is None and getattr(ans, "mode", None) == "llm"  # issue 16: verified sentences marked
    parts.append(f'<div class="rag-answer">{generated.render_sentences(ans) if verified else _one_line(ans.answer if shown is None else shown)}</div>')
    if shown is None and getattr(ans, "notice", None):
        parts.append(generated.render_notice(ans.notice))
    if shown is None and ans.citations:
        items = "".join(
            f'<li><a class="rag-cite" href="{escape(source_link(settings, c))}" target="_blank" rel="noopener" '
            f'title="{escape(t["open_source"])}">{_one_line(c.source)}</a>'
            f'<span class="rag-quote">«{_one_line(c.quote)}»</span></li>'
            for c in ans.citations
        )
        parts.append(f'<div class="rag-sources"><span>{_one_line(t["sources"])}</span><ol>{items}</ol></div>')
    return "".join(parts)


def render_error(message: str, t: dict) -> str:
    return f'<div class="rag-error">{_one_line(t["error"].format(message=message))}</div>'


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
        x, y = max(a, span[0]), min(b, span[1])
        if x >= y:
            paragraphs.append(f"<p>{escape(text[a:b])}</p>")
            continue
        mark_id = ' id="cited"' if x == span[0] else ""
        paragraphs.append(f"<p>{escape(text[a:x])}<mark{mark_id}>{escape(text[x:y])}</mark>{escape(text[y:b])}</p>")
    meta = [(t["source_file"], doc.source), (t["source_date"], doc.date), (t["source_dateline"], doc.dateline)]
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


@cache
def widget_js() -> str:
    """widget.js with the widget's texts in every UI language."""
    keys = ("title", "widget_open", "widget_close")
    texts = {lang: {k: ui_texts(lang)[k] for k in keys} for lang in languages()}
    return (STATIC / "widget.js").read_text(encoding="utf-8").replace("/*TEXTS*/{}", json.dumps(texts, ensure_ascii=False))


def streamed(text: str) -> Iterator[str]:
    """Growing prefixes of the text, cut at word ends."""
    words = text.split(" ")
    step = max(1, len(words) // STREAM_STEPS)
    for i in range(step, len(words), step):
        yield " ".join(words[:i]) + " …"
    yield text


def make_respond(rag: RAG, settings: Settings, t: dict):
    """The chat's event handler: yields (textbox, chat, turns) as the answer streams in."""

    def respond(message: str, chat: list, turns: list) -> Iterator[tuple]:
        if not message.strip():  # Enter in an empty box does nothing, as in any chat
            yield "", chat, turns
            return
        chat = [*chat, {"role": "user", "content": render_question(message)}]
        yield "", chat, turns
        try:
            if rag.generator is not None:  # issue 16: the model's tokens as they come, then the checked answer
                ans = yield from generated.stream_reply(rag, message, turns, chat, t)
            else:
                ans = conversation.ask(rag, message, turns)
        except QuestionError as e:
            yield "", [*chat, {"role": "assistant", "content": render_error(str(e), t)}], turns
            return
        if not ans.abstained and rag.generator is None:
            for shown in streamed(ans.answer):
                yield "", [*chat, {"role": "assistant", "content": render_answer(ans, t, settings, message, shown)}], turns
                time.sleep(STREAM_DELAY)
        turns = [*turns, {"role": "user", "content": message}, {"role": "assistant", "content": ans.answer}]
        yield "", [*chat, {"role": "assistant", "content": render_answer(ans, t, settings, message)}], turns

    return respond


def build_chat(rag: RAG, settings: Settings, lang: str = "ru", embed: bool = False) -> gr.Blocks:
    """The chat page; `embed` is the compact mode the widget shows in its iframe."""
    t = ui_texts(lang)
    respond = make_respond(rag, settings, t)

    def run_example(chat: list, turns: list, evt: gr.SelectData) -> Iterator[tuple]:
        yield from respond(evt.value["text"], chat, turns)

    with gr.Blocks(title=t["title"], analytics_enabled=False, fill_height=True) as demo:
        turns = gr.State([])
        if not embed:
            gr.HTML(
                f'<header class="rag-header"><div><h1>{escape(t["title"])}</h1><p>{escape(t["subtitle"])}</p></div>'
                f'<a href="{escape(settings.root_path)}/docs" target="_blank">{escape(t["api_docs"])}</a></header>'
            )
        chatbot = gr.Chatbot(
            show_label=False, elem_id="rag-chat", elem_classes=["rag-embed"] if embed else None, scale=1, height="100%",
            placeholder=f'<p class="rag-empty">{escape(t["empty_chat"])}</p>',
            examples=[{"text": q} for q in t["examples"]], sanitize_html=True, render_markdown=True,
            latex_delimiters=[], feedback_options=None, buttons=[], group_consecutive_messages=False,
        )
        with gr.Row(elem_id="rag-input", equal_height=True):
            box = gr.Textbox(
                show_label=False, placeholder=t["placeholder"], submit_btn=t["send"], scale=6, max_lines=4,
                autofocus=not embed, elem_id="rag-question", container=False,
            )
            new = gr.Button(t["new_chat"], variant="secondary", size="md", scale=0, min_width=190, elem_id="rag-new")
        outputs = [box, chatbot, turns]
        common = {"concurrency_limit": settings.concurrency, "show_progress": "hidden", "api_visibility": "private"}
        box.submit(respond, [box, chatbot, turns], outputs, **common)
        chatbot.example_select(run_example, [chatbot, turns], outputs, **common)
        new.click(lambda: ("", [], []), None, outputs, api_visibility="private")
        chatbot.clear(list, None, turns, api_visibility="private")
    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


def mount_chat(app, rag: RAG, settings: Settings, path: str, lang: str = "ru", embed: bool = False) -> None:
    """Serve a chat under `path` of the FastAPI app: our CSS, local fonts and assets, no footer, no telemetry."""
    gr.mount_gradio_app(
        app, build_chat(rag, settings, lang, embed), path=path, css_paths=[STATIC / "chat.css"], footer_links=[],
        theme=gr.themes.Default(primary_hue="blue"), show_error=False, enable_monitoring=False, pwa=False,
        mcp_server=False, ssr_mode=False,
    )
