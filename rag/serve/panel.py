"""The chat's «Статьи» panel: the indexed articles (title, date, outlet when ingestion gives one, file, chunks),
and, when the server has an admin token and the right one is typed, adding and removing an article."""
from __future__ import annotations

from html import escape
from pathlib import Path

import gradio as gr

from rag.config import Settings
from rag.errors import RagError
from rag.serve import documents
from rag.serve.live import Live
from rag.serve.watch import ARTICLE_SUFFIXES

SHOWN_META = ("date", "outlet", "dateline")  # shown after the title when an article has them


def render_documents(items: list[dict], t: dict) -> str:
    """The list as HTML; every text from the articles is escaped."""
    if not items:
        return f'<p class="rag-docs-empty">{escape(t["docs_empty"])}</p>'
    rows = []
    for d in items:
        meta = " · ".join(escape(str(d[k])) for k in SHOWN_META if d.get(k))
        rows.append(
            f'<li><span class="rag-doc-title">{escape(d.get("title") or d["file"])}</span>'
            f'{f" <span class=rag-doc-meta>{meta}</span>" if meta else ""}'
            f'<br><span class="rag-doc-file">{escape(d["file"])}</span> '
            f'<span class="rag-doc-meta">{escape(t["docs_chunks"].format(n=d["chunks"]))}</span></li>'
        )
    return f'<p class="rag-docs-count">{escape(t["docs_count"].format(n=len(items)))}</p><ol class="rag-docs">{"".join(rows)}</ol>'


def documents_panel(live: Live, settings: Settings, t: dict) -> None:
    """Add the panel to the chat page being built (call inside its `gr.Blocks`)."""
    admin = bool(settings.admin_token)

    def show():
        items = documents.listing(live.rag.index)
        return render_documents(items, t), gr.update(choices=[d["file"] for d in items], value=None)

    with gr.Accordion(t["docs_panel"], open=False, elem_id="rag-docs-panel") as panel:
        listing = gr.HTML(elem_id="rag-docs-list")
        choice = gr.Dropdown(label=t["docs_delete_label"], choices=[], visible=False, elem_id="rag-delete-choice")
        refresh = gr.Button(t["docs_refresh"], size="sm", elem_id="rag-docs-refresh")
        refresh.click(show, None, [listing, choice], api_visibility="private")
        # Listed when opened, not when the page loads: Gradio closes a session's event stream when its last event
        # ends, and a question sent in that moment (right after a load event) never got its answer on screen.
        panel.expand(show, None, [listing, choice], api_visibility="private")
        if not admin:
            return
        token = gr.Textbox(label=t["docs_admin_token"], type="password", elem_id="rag-admin-token", max_lines=1)
        with gr.Group(visible=False, elem_id="rag-admin") as tools:
            upload = gr.File(label=t["docs_upload"], file_types=sorted(ARTICLE_SUFFIXES), type="filepath", elem_id="rag-upload")
            remove = gr.Button(t["docs_delete"], variant="stop", size="sm", elem_id="rag-delete")
        status = gr.HTML(elem_id="rag-docs-status")

    def unlock(given: str):
        ok = documents.admin_allowed(settings.admin_token, given)
        return gr.update(visible=ok), gr.update(visible=ok), "" if ok or not given else _note(t["docs_admin_wrong"], error=True)

    def act(given: str, work, done: str):
        if not documents.admin_allowed(settings.admin_token, given):
            return (_note(t["docs_admin_wrong"], error=True), *show())
        try:
            name = work()
        except (RagError, OSError) as e:
            return (_note(t["error"].format(message=e), error=True), *show())
        return (_note(done.format(file=name)), *show())

    def add(given: str, path: str | None):
        if not path:
            return ("", *show())

        def work():
            with open(path, "rb") as f:
                data = f.read(settings.upload_max_bytes + 1)
            return documents.upload(live, Path(path).name, data)[0]

        return act(given, work, t["docs_uploaded"])

    def drop(given: str, name: str | None):
        if not name:
            return ("", *show())
        return act(given, lambda: documents.delete(live, name) or name, t["docs_deleted"])

    token.change(unlock, token, [tools, choice, status], api_visibility="private")
    upload.upload(add, [token, upload], [status, listing, choice], api_visibility="private")
    remove.click(drop, [token, choice], [status, listing, choice], api_visibility="private")


def _note(message: str, error: bool = False) -> str:
    return f'<p class="{"rag-error" if error else "rag-docs-note"}">{escape(message)}</p>'
