"""The Gradio 6 chat (full page or embed mode): each pipeline step streamed into the chat as it comes, 👍/👎
feedback, the `/ask` endpoint, and the scripts it and the widget run (chat.js, widget.js). The HTML of every
message comes from render.py, which escapes every text from documents and users."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from functools import cache
from html import escape

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry, no update check

import gradio as gr

from rag.config import Settings
from rag.errors import QuestionError
from rag.pipeline import Answered, Decided, Understood, Verified, Written
from rag.serve import feedback, generated, logs
from rag.serve.live import Live
from rag.serve.panel import documents_panel
from rag.serve.render import (
    STATIC,
    all_texts,
    languages,
    render_answer,
    render_error,
    render_pending,
    render_question,
    ui_texts,
)

# A session's chat and turns live in the server's memory: a chat left running for days must not grow without end.
CHAT_MESSAGES = 200  # messages a chat page keeps showing (the oldest scroll away)
HISTORY_TURNS = 20  # question-answer pairs kept for follow-ups


def chat_js(lang: str) -> str:
    """chat.js (run by Gradio once the page is up) with the chat's texts of one language."""
    keys = ("copy", "copied", "like", "dislike", "user_message", "bot_message", "example", "send", "question_label")
    texts = {k: ui_texts(lang)[k] for k in keys}
    return (STATIC / "chat.js").read_text(encoding="utf-8").replace("/*TEXTS*/{}", json.dumps(texts, ensure_ascii=False))


def gradio_texts() -> gr.I18n:
    """Gradio's own notices (the reconnect notice, errors) in Russian whatever the browser's language."""
    return gr.I18n(**{lang: all_texts()["gradio"] for lang in ("en", "ru")})


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
