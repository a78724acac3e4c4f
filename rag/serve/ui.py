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
from rag.answer.metadata import human_date
from rag.config import Settings
from rag.errors import QuestionError
from rag.ingest.corpus import Document
from rag.pipeline import Answered, Decided, Understood, Verified, Written
from rag.serve import feedback, generated, logs
from rag.serve.live import Live
from rag.serve.panel import documents_panel

STATIC = Path(__file__).parent / "static"
UI_TEXTS = Path(__file__).parent.parent / "data" / "ui.toml"
# A session's chat and turns live in the server's memory: a chat left running for days must not grow without end.
CHAT_MESSAGES = 200  # messages a chat page keeps showing (the oldest scroll away)
HISTORY_TURNS = 20  # question-answer pairs kept for follow-ups


@cache
def _all_texts() -> dict[str, dict]:
    return tomllib.loads(UI_TEXTS.read_text(encoding="utf-8"))


def ui_texts(lang: str = "ru") -> dict:
    """The UI texts of one language (ru if it has none)."""
    return _all_texts().get(lang, _all_texts()["ru"])


def languages() -> list[str]:
    return [lang for lang in _all_texts() if lang != "gradio"]


def source_link(settings: Settings, c: Citation) -> str:
    """The source viewer's URL for a citation, with the prefix and the span; the access token travels in the
    HttpOnly cookie, never in a link someone might share."""
    return f"{settings.root_path}/sources/{quote(c.source)}?start={c.start}&end={c.end}#cited"


def _one_line(text: str) -> str:
    # A single line of escaped HTML is one HTML block for the Markdown renderer: nothing in it is parsed as Markdown.
    # A lone surrogate (from a broken client) cannot go out as UTF-8: shown as "?".
    return " ".join(escape(text.encode("utf-8", "replace").decode("utf-8")).split())


def render_question(question: str) -> str:
    return f'<div class="rag-q">{_one_line(question)}</div>'


def render_citation(i: int, c: Citation, t: dict, settings: Settings) -> str:
    """One numbered source: its label linking to the highlighted passage, the file, the quote (folded on phones)."""
    label = citation_label(c)
    file = f'<span class="rag-file rag-cite-file">{_one_line(c.source)}</span>' if label != c.source else ""
    heading = (f'<span class="rag-cite-heading">{_one_line(t["section"].format(heading=c.heading))}</span>'
               if c.heading and c.heading != c.title else "")
    return (
        f'<li id="rag-src-{i}"><a class="rag-cite" href="{escape(source_link(settings, c))}" target="_blank" rel="noopener" '
        f'aria-label="{escape(t["open_source_n"].format(n=i, label=label))}">{_one_line(label)}</a>{file}{heading}'
        f'<details class="rag-quote-box"><summary class="rag-quote">«{_one_line(c.quote)}»</summary>'
        f'<span class="rag-quote-full">«{_one_line(c.quote)}»</span></details></li>'
    )


def _understood(ans_question: str, rewritten: bool, t: dict) -> str:
    return f'<div class="rag-understood">{_one_line(t["understood_as"].format(question=ans_question))}</div>' if rewritten else ""


def render_pending(t: dict, understood: str | None = None) -> str:
    """While the articles are searched: the question as understood (only when rewritten) and «ищу в статьях…»."""
    return f'{_understood(understood, True, t) if understood else ""}<div class="rag-status" role="status">{_one_line(t["searching"])}</div>'


def render_answer(ans: Answer, t: dict, settings: Settings, rewritten: bool, decided_ms: float | None = None, sources: bool = True) -> str:
    """An answer as HTML in which every text from documents and users is escaped: [1]-style markers after the
    answer, then (once `sources`) the numbered sources, a copy button. `decided_ms` (epoch ms) lets the browser
    tests measure how soon the text is on screen."""
    parts = [_understood(ans.question, rewritten, t)]
    if ans.abstained:
        parts.append(f'<div class="rag-abstain"><span class="rag-abstain-title">{_one_line(t["abstain"])}</span><br>{_one_line(t["abstain_hint"])}</div>')
        return "".join(parts)
    llm = getattr(ans, "mode", None) == "llm"  # issue 16: each verified sentence carries its own citation numbers
    markers = "" if llm else "".join(f'<sup class="rag-marker">[{i}]</sup>' for i in range(1, len(ans.citations) + 1))
    # The sanitizer keeps classes only: the moment the answer was decided rides in one (epoch ms).
    stamp = f" rag-decided-{decided_ms:.0f}" if decided_ms is not None else ""
    parts.append(f'<div class="rag-answer{stamp}">{generated.answer_html(ans)}{markers}</div>{generated.notice_html(ans)}')
    if sources and ans.citations:
        items = "".join(render_citation(i, c, t, settings) for i, c in enumerate(ans.citations, 1))
        parts.append(f'<div class="rag-sources"><span>{_one_line(t["sources"])}</span><ol>{items}</ol></div>')
        parts.append(f'<button type="button" class="rag-copy">{_one_line(t["copy"])}</button>')
    return "".join(parts)


def citation_label(c: Citation) -> str:
    """What a citation is called: «Sputnik · 3 апреля 2024 · Казахстан придерживается принципа…», the parts the
    document has; its file name when it has none."""
    return " · ".join(part for part in (c.outlet, human_date(c.date), c.title) if part) or c.source


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


def chat_js(lang: str) -> str:
    """chat.js (run by Gradio once the page is up) with the chat's texts of one language."""
    keys = ("copy", "copied", "like", "dislike", "user_message", "bot_message", "example", "send", "question_label")
    texts = {k: ui_texts(lang)[k] for k in keys}
    return (STATIC / "chat.js").read_text(encoding="utf-8").replace("/*TEXTS*/{}", json.dumps(texts, ensure_ascii=False))


def gradio_texts() -> gr.I18n:
    """Gradio's own notices (the reconnect notice, errors) in Russian whatever the browser's language."""
    return gr.I18n(**{lang: _all_texts()["gradio"] for lang in ("en", "ru")})


@cache
def widget_js() -> str:
    """widget.js with the widget's texts in every UI language."""
    keys = ("title", "widget_open", "widget_close", "widget_not_allowed", "widget_no_token")
    texts = {lang: {k: ui_texts(lang)[k] for k in keys} for lang in languages()}
    return (STATIC / "widget.js").read_text(encoding="utf-8").replace("/*TEXTS*/{}", json.dumps(texts, ensure_ascii=False))


def make_respond(live: Live, settings: Settings, t: dict, channel: str = "chat"):
    """The chat's event handler: yields (textbox, chat, turns) as each pipeline step arrives, no waiting between; each
    message is answered by the build serving when it arrives, and logged."""

    def respond(message: str, chat: list, turns: list) -> Iterator[tuple]:
        if not message.strip():  # Enter in an empty box does nothing, as in any chat
            yield "", chat, turns
            return
        chat = [*chat, {"role": "user", "content": render_question(message)}][-CHAT_MESSAGES:]
        history = [{"role": r["role"], "content": r["content"]} for r in turns]
        yield "", [*chat, {"role": "assistant", "content": render_pending(t)}], turns
        rewritten, written = False, ""
        try:
            rag = live.rag
            for step in rag.steps(message, history):
                if isinstance(step, Understood):
                    rewritten = step.rewritten
                    if rewritten:
                        yield "", [*chat, {"role": "assistant", "content": render_pending(t, step.question)}], turns
                elif isinstance(step, Decided):
                    decided_ms = time.time() * 1000
                    # In llm mode (issue 16) the quote is not shown while the model writes the answer.
                    html = (generated.render_writing("", t) if rag.generator and not step.answer.abstained
                            else render_answer(step.answer, t, settings, rewritten, decided_ms, sources=False))
                    yield "", [*chat, {"role": "assistant", "content": html}], turns
                elif isinstance(step, Written):  # issue 16: the model's tokens as they come
                    written += step.text
                    yield "", [*chat, {"role": "assistant", "content": generated.render_writing(written, t)}], turns
                elif isinstance(step, Verified):
                    html = render_answer(step.answer, t, settings, rewritten, decided_ms, sources=False)
                    yield "", [*chat, {"role": "assistant", "content": html}], turns
                elif isinstance(step, Answered):
                    ans = step.answer
                    logs.log_answer(rag, message, ans, step.gathered, channel)
        except QuestionError as e:
            yield "", [*chat, {"role": "assistant", "content": render_error(str(e), t)}], turns
            return
        record = {"role": "assistant", "content": ans.answer, "record": {**ans.to_dict(), "asked": message}}
        turns = [*turns, {"role": "user", "content": message}, record][-2 * HISTORY_TURNS :]
        yield "", [*chat, {"role": "assistant", "content": render_answer(ans, t, settings, rewritten, decided_ms)}], turns

    return respond


def make_feedback(store: feedback.Store):
    """👍/👎 under a bot message: stored with the question, the answer and the citations it showed."""

    def on_like(turns: list, data: gr.LikeData) -> None:
        answers = [r["record"] for r in turns if r.get("role") == "assistant" and "record" in r]
        n = data.index[0] // 2 if isinstance(data.index, (list, tuple)) else data.index // 2
        if not 0 <= n < len(answers) or data.liked is None or data.liked == "":
            return
        r = answers[n]
        liked = data.liked is True or data.liked == "Like"
        store.add("up" if liked else "down", r["question"], r["asked"], r["answer"], r["abstained"], r["citations"])

    return on_like


def api_ask(live: Live):
    def ask(question: str, history: list[dict] | None = None) -> dict:
        """Answer a question from the articles: {"question", "answer", "abstained", "citations", "timings_ms"}.
        `history` is the conversation so far, [{"role": "user"|"assistant", "content": "…"}], for follow-ups."""
        return logs.logged_ask(live.rag, question, history or [], "gradio").to_dict()

    return ask


def build_chat(live: Live, settings: Settings, store: feedback.Store, lang: str = "ru", embed: bool = False) -> gr.Blocks:
    """The chat page, with the «Статьи» panel; `embed` is the compact mode the widget shows in its iframe. Besides the chat's private
    events it has one public endpoint, `/ask` (gradio_client: `Client(url).predict(question, api_name="/ask")`)."""
    t = ui_texts(lang)
    respond = make_respond(live, settings, t, "widget" if embed else "chat")

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
            latex_delimiters=[], feedback_options=("Like", "Dislike"), buttons=[], group_consecutive_messages=False,
        )
        with gr.Row(elem_id="rag-input", equal_height=True):
            box = gr.Textbox(
                label=t["question_label"], show_label=False, placeholder=t["placeholder"], submit_btn=t["send"], scale=6, max_lines=4,
                autofocus=not embed, elem_id="rag-question", container=False,
            )
            new = gr.Button(t["new_chat"], variant="secondary", size="md", scale=0, min_width=190, elem_id="rag-new")
        outputs = [box, chatbot, turns]
        common = {"concurrency_limit": settings.concurrency, "show_progress": "hidden", "api_visibility": "private"}
        box.submit(respond, [box, chatbot, turns], outputs, **common)
        chatbot.example_select(run_example, [chatbot, turns], outputs, **common)
        new.click(lambda: ("", [], []), None, outputs, api_visibility="private")
        chatbot.like(make_feedback(store), [turns], None, api_visibility="private")
        gr.api(api_ask(live), api_name="ask", concurrency_limit=settings.concurrency)
        if not embed:
            documents_panel(live, settings, t)
    demo.queue(default_concurrency_limit=settings.concurrency)
    # Gradio keeps the state of 10,000 sessions and a message queue for each of the last 2,000 by default
    # (~45 kB and a few kB a session): the soak's memory grew until both were full, ten minutes in.
    demo.state_session_capacity = settings.chat_sessions
    demo._queue.pending_messages_per_session.max_size = settings.chat_sessions
    return demo


def mount_chat(app, live: Live, settings: Settings, store: feedback.Store, path: str, lang: str = "ru", embed: bool = False) -> None:
    """Serve a chat under `path` of the FastAPI app: our CSS and script (Russian labels, the copy button), local
    fonts and assets, no footer, no telemetry."""
    gr.mount_gradio_app(
        app, build_chat(live, settings, store, lang, embed), path=path, css_paths=[STATIC / "chat.css"], footer_links=[],
        js=chat_js(lang), max_file_size=settings.upload_max_bytes, i18n=gradio_texts() if lang == "ru" else None,
        theme=gr.themes.Default(primary_hue="blue"), show_error=False, enable_monitoring=False, pwa=False,
        mcp_server=False, ssr_mode=False,
    )
