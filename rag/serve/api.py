"""One server over one shared RAG: JSON API, source viewer, widget files and the Gradio chats, guarded by the
intranet settings (access token, allowed embedding origins, URL prefix)."""
from __future__ import annotations

import json
import time
from typing import Literal

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator
from swagger_ui_bundle import swagger_ui_path

from rag.config import Mode, Settings
from rag.errors import DocumentError, DocumentTooLargeError, NoSuchDocumentError, QuestionError, RagError
from rag.pipeline import RAG, question_problem
from rag.serve import documents, logs, memory
from rag.serve import feedback as feedback_mod
from rag.serve.events import sse
from rag.serve.guard import Guard
from rag.serve.live import Live
from rag.serve.render import STATIC, languages, render_demo, render_source
from rag.serve.ui import mount_chat, widget_js

MAX_K = 50  # more chunks than this are never read as evidence; a huge k only costs time
# Our own pages run no inline code: documents and questions can never become script there.
PAGE_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'"


class Message(BaseModel):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)

    @field_validator("content")
    @classmethod
    def _readable(cls, value: str) -> str:
        # Lone surrogates and control characters only; an assistant turn may well have no letters.
        if value and (problem := question_problem(value + " а")):
            raise ValueError(problem)
        return value


class AskRequest(BaseModel):
    """A question, optionally with the conversation so far (follow-ups like "А когда?" use it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Где пройдет саммит ШОС?"},
        {"question": "А когда?", "history": [{"role": "user", "content": "Где пройдет саммит ШОС?"}]},
    ]})
    question: str = Field(description="The question, in Russian or English; empty or over-long ones are refused.")
    history: list[Message] = Field(default_factory=list, max_length=100, description="Earlier turns, oldest first.")
    k: int | None = Field(None, ge=1, le=MAX_K, description="Chunks to retrieve (`rag ask --k`); default RAG_TOP_K.")
    mode: Mode | None = Field(None, description="Retrieval mode (`rag ask --mode`): hybrid, dense or bm25; default RAG_RETRIEVAL_MODE.")


class CitationOut(BaseModel):
    source: str = Field(description="File name relative to the corpus folder.")
    quote: str = Field(description="Exactly the cleaned text of the file at [start, end).")
    start: int
    end: int
    score: float
    title: str = Field("", description="The cited document's title.")
    date: str | None = Field(None, description="The cited document's date, ISO (YYYY-MM-DD).")
    outlet: str | None = Field(None, description="The site or agency that published the document.")
    heading: str = Field("", description="The heading of the section quoted, if the document has headings.")


class SentenceOut(BaseModel):
    """A generated sentence as the verifier found it (issue 16)."""

    text: str
    supported: bool = Field(description="Every number, name, date, quoted phrase and negation in it occurs in its cited passages.")
    citations: list[int] = Field(description="1-based numbers of the answer's citations that hold it.")
    missing: list[str] = Field(description="For an unsupported sentence: the claims no passage holds.")


class AskResponse(BaseModel):
    """The object `rag ask --json` prints; with history, `question` is the follow-up as it was understood."""

    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    # Issue 16: only in llm mode (RAG_ANSWER_MODE=llm); an extractive server's answers do not have these fields.
    mode: Literal["extractive", "llm"] = Field("extractive", description="llm: generated and verified; extractive: quoted (the fallback).")
    sentences: list[SentenceOut] | None = Field(None, description="The generated sentences and their support; the answer is the supported ones.")
    notice: str | None = Field(None, description="Why the quoted answer is shown in llm mode, or how many sentences were removed.")


class FeedbackIn(BaseModel):
    """👍 or 👎 on one answer, with what was asked and what the chat showed."""

    model_config = ConfigDict(extra="forbid")
    rating: Literal["up", "down"]
    question: str = Field(max_length=20_000, description="The question as understood.")
    asked: str = Field("", max_length=20_000, description="The user's own words, when the question was a follow-up.")
    answer: str = Field(max_length=50_000)
    abstained: bool = False
    citations: list[CitationOut] = Field(default_factory=list, max_length=50)


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    chunks: int
    model: str = Field(description="The embedding model the index was built with.")
    built_at: str | None
    build: str = Field(description="The build folder being served.")
    serving_since: str = Field(description="When that build was swapped in (or loaded at start).")
    published_build: str | None = Field(description="The build the index folder's `current` points at now.")
    watching: bool = Field(description="Changes to the corpus folder are indexed as they happen (`rag serve --watch`).")
    up_to_date: bool = Field(description="The newest published build is the one serving, and its stages match the settings.")
    stale_reason: str | None = Field(description="Why not: a build being loaded, one that failed to load, a changed stage.")


class ApiError(BaseModel):
    error: str
    detail: list | None = None


def sse_example() -> str:
    return ('event: understood\ndata: {"question": "Когда пройдет саммит ШОС?", "rewritten": true}\n\n'
            'event: retrieved\ndata: {"query": "…", "hits": [{"source": "001_6b3bc755e8fe2ed9.txt", "score": 0.03}], "ms": 40.1}\n\n'
            'event: decided\ndata: {"question": "…", "answer": "…", "abstained": false, "citations": […]}\n\n')


def health(live: Live) -> Health:
    """From what is loaded and one readlink: no corpus scan, no stat of its files."""
    rag, serving = live.rag, live.serving()
    idx = rag.index
    if serving.error:
        reason = f"the newest build {serving.published} could not be loaded ({serving.error}); still serving {serving.build}"
    elif serving.published != serving.build:
        reason = f"the newest build {serving.published} is being loaded; serving {serving.build} until then"
    else:
        reason = serving.stale
    return Health(
        status="ok", documents=len(idx.documents), chunks=len(idx.chunks), model=rag.embedder.model_id,
        built_at=idx.manifest.get("built_at"), build=serving.build,
        serving_since=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(serving.since)),
        published_build=serving.published, watching=live.settings.watch, up_to_date=reason is None, stale_reason=reason,
    )


def create_app(source: RAG | Live, settings: Settings) -> FastAPI:
    """The whole server as one ASGI app. A RAG is wrapped in a Live that follows the index: every request and
    chat message takes the build serving when it starts."""
    live = source if isinstance(source, Live) else Live(source)
    logs.configure(settings)
    live.start()
    app = FastAPI(
        title="Вопросы по новостям — API", version="1", docs_url=None, redoc_url=None,
        description="Answers with citations from the indexed articles. With an access token set, send "
        "`Authorization: Bearer <token>` (or `X-Access-Token`).",
    )
    errors = {422: {"model": ApiError, "description": "Empty, over-long or malformed question."}, 401: {"model": ApiError}}

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in exc.errors())
        # ASCII-escaped JSON: the echoed input may hold a lone surrogate, which UTF-8 cannot encode (a 500 before).
        body = json.dumps({"error": problems, "detail": exc.errors()}, default=str)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(QuestionError)
    async def bad_question(request: Request, exc: QuestionError):
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(DocumentError)
    async def bad_document(request: Request, exc: DocumentError):
        status = 413 if isinstance(exc, DocumentTooLargeError) else 404 if isinstance(exc, NoSuchDocumentError) else 422
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.exception_handler(RagError)
    async def unavailable(request: Request, exc: RagError):
        return JSONResponse({"error": str(exc)}, status_code=503)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException too, and the router's own 404/405
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    # An HTML page whose "not found" is JSON: documented as such (the page's own media type is text/html).
    not_found = {404: {"description": "No such article in the index.", "content": {"application/json": {"schema": ApiError.model_json_schema()}}}}
    token = [Depends(HTTPBearer(auto_error=False, description="RAG_ACCESS_TOKEN, when the server sets one."))]  # documents it; Guard checks it

    # Each event's data is the JSON object of one step (see sse_example); their shapes differ by event.
    stream_doc = {"content": {"text/event-stream": {"schema": {"type": "object"}, "example": sse_example()}},
                  "description": "With `Accept: text/event-stream`: one event per pipeline step, as it happens."}

    # Fields an answer does not have are left out (extractive answers carry no `mode`, `sentences`, `notice`).
    @app.post("/api/ask", response_model=AskResponse, response_model_exclude_unset=True, responses={**errors, 200: stream_doc}, tags=["api"],
              summary="Ask a question", dependencies=token)
    def ask(body: AskRequest, request: Request):
        """Answer a question with citations, or abstain; the same object as `rag ask --json`. A client that sends
        `Accept: text/event-stream` gets server-sent events instead (as from `/api/ask/stream`)."""
        if "text/event-stream" in request.headers.get("accept", ""):
            return ask_stream(body)
        return logs.logged_ask(live.rag, body.question, [m.model_dump() for m in body.history], "api", k=body.k, mode=body.mode).to_dict()

    @app.post("/api/ask/stream", responses={**errors, 200: stream_doc}, tags=["api"], summary="Ask, streamed step by step", dependencies=token)
    def ask_stream(body: AskRequest) -> StreamingResponse:
        """Server-sent events: `understood` (the question as understood, `rewritten`), `retrieved`, `evidence`,
        `decided` (the answer), in llm mode `token` (the model's text as it comes) and `verified` (the checked
        answer), `answered` (the answer with timings: the object `/api/ask` returns)."""
        steps = live.rag.steps(body.question, [m.model_dump() for m in body.history], k=body.k, mode=body.mode)
        first = next(steps)  # an empty or over-long question is refused with a 422 before the stream starts
        return StreamingResponse(sse(first, steps), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    store = feedback_mod.Store(feedback_mod.path(settings))

    @app.post("/api/feedback", tags=["api"], summary="👍/👎 on an answer", dependencies=token, status_code=201)
    def post_feedback(body: FeedbackIn) -> dict:
        """Stored with the question, the answer and its citations (SQLite beside the index folder)."""
        return {"id": store.add(body.rating, body.question, body.asked or body.question, body.answer, body.abstained,
                                [c.model_dump() for c in body.citations])}

    ndjson = {200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}, "description": "One eval question a line."}}

    @app.get("/api/feedback/export", response_class=PlainTextResponse, responses=ndjson, tags=["api"], summary="Feedback as eval JSONL", dependencies=token)
    def export_feedback() -> PlainTextResponse:
        """One eval question a line (docs/eval.md): liked answers as references, disliked ones to be labelled."""
        return PlainTextResponse("".join(line + "\n" for line in feedback_mod.export(store)), media_type="application/x-ndjson")

    @app.get("/api/health", response_model=Health, tags=["api"], summary="Index status")
    def get_health() -> Health:
        """Which build serves and since when, its document and chunk counts, the embedding model; reads no corpus."""
        return health(live)

    app.include_router(documents.routes(live, settings, token, ApiError))

    @app.get("/sources/{name:path}", response_class=HTMLResponse, tags=["pages"], summary="Source viewer", responses=not_found)
    def source(name: str, start: int | None = None, end: int | None = None, lang: str = "ru") -> HTMLResponse:
        """The cleaned article `name` (a file in the index, nothing else) with [start, end) highlighted."""
        doc = live.rag.index.documents.get(name)
        if doc is None:
            raise HTTPException(404, "No such article in the index.")
        return HTMLResponse(render_source(doc, start, end, lang, settings), headers={"Content-Security-Policy": PAGE_CSP})

    @app.get("/api/widget", include_in_schema=False)
    def widget_check() -> dict:
        """What widget.js asks before it opens the chat: CORS refuses an origin that may not embed it, the Guard
        a missing or wrong token; either way the widget says so in the page's language."""
        return {"ok": True}

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        return Response(widget_js(), media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "max-age=300"})

    @app.get("/widget-demo", response_class=HTMLResponse, tags=["pages"], summary="Widget demo page")
    def widget_demo(request: Request) -> HTMLResponse:
        """A plain page that uses the widget (query: lang, title, position, color, text-color)."""
        return HTMLResponse(render_demo(request.query_params, settings, str(request.base_url).rstrip("/")), headers={"Content-Security-Policy": PAGE_CSP})

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        root = settings.root_path
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json", title=app.title, swagger_favicon_url=f"{root}/rag-static/favicon.svg",
            swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js", swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
        )

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def api_not_found(rest: str) -> JSONResponse:
        """Every other /api/ path is ours too (not the chat's, mounted at /): a JSON 404 like the API's others."""
        return JSONResponse({"error": "No such API route: see /docs for the ones there are."}, status_code=404)

    app.mount("/rag-static", StaticFiles(directory=STATIC), name="rag-static")
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")
    for lang in languages():
        mount_chat(app, live, settings, store, f"/embed/{lang}", lang, embed=True)
    mount_chat(app, live, settings, store, "/")  # last: it takes every path not matched before
    app.add_middleware(Guard, settings=settings)
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Access-Token", "X-Admin-Token"], max_age=600,
    )
    return app


def serve(settings: Settings) -> None:
    """Load the index and run the server until interrupted, following every build published meanwhile."""
    memory.bound_heap()
    live = Live(RAG(settings))  # no other reference to the first build: it is released when a newer one serves
    app = create_app(live, settings)
    watching = f", watching {settings.corpus_dir}" if settings.watch else ""
    print(f"rag: serving {len(live.rag.index.documents)} articles at http://{settings.host}:{settings.port}{settings.root_path}/{watching}", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=3)
