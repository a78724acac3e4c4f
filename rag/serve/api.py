"""One server over one shared RAG: JSON API, source viewer, widget files and the Gradio chats, guarded by the
intranet settings (access token, allowed embedding origins, URL prefix)."""
from __future__ import annotations

import hmac
import json
from html import escape
from typing import Literal

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from swagger_ui_bundle import swagger_ui_path

from rag.config import Settings
from rag.errors import QuestionError, RagError
from rag.pipeline import RAG
from rag.serve import conversation
from rag.serve.ui import (
    STATIC,
    languages,
    mount_chat,
    render_demo,
    render_source,
    ui_texts,
    widget_js,
)

COOKIE = "rag_token"
OPEN_PATHS = {"/widget.js", "/api/health", "/docs", "/openapi.json", "/favicon.ico"}
OPEN_PREFIXES = ("/rag-static/", "/docs-assets/")
# Our own pages run no inline code: documents and questions can never become script there.
PAGE_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'"


class Message(BaseModel):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    """A question, optionally with the conversation so far (follow-ups like "А когда?" use it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Где пройдет саммит ШОС?"},
        {"question": "А когда?", "history": [{"role": "user", "content": "Где пройдет саммит ШОС?"}]},
    ]})
    question: str = Field(description="The question, in Russian or English; empty or over-long ones are refused.")
    history: list[Message] = Field(default_factory=list, max_length=100, description="Earlier turns, oldest first.")


class CitationOut(BaseModel):
    source: str = Field(description="File name relative to the corpus folder.")
    quote: str = Field(description="Exactly the cleaned text of the file at [start, end).")
    start: int
    end: int
    score: float


class SentenceOut(BaseModel):
    """A generated sentence as the verifier found it (issue 16)."""

    text: str
    supported: bool = Field(description="Every number, name, date and quoted phrase in it occurs in its cited passages.")
    citations: list[int] = Field(description="1-based numbers of the answer's citations that support it.")
    missing: list[str] = Field(description="For an unsupported sentence: the claims no passage holds.")


class AskResponse(BaseModel):
    """The object `rag ask --json` prints; with history, `question` is the follow-up as it was understood."""

    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    mode: Literal["extractive", "llm"] = Field("extractive", description="llm: generated and verified; extractive: quoted (given in llm mode only).")
    sentences: list[SentenceOut] | None = Field(None, description="Generated sentences and their support (llm mode); the answer is the supported ones.")
    notice: str | None = Field(None, description="Why the extractive answer is shown in llm mode, or how many sentences were removed.")


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    chunks: int
    model: str = Field(description="The embedding model the index was built with.")
    built_at: str | None
    up_to_date: bool = Field(description="False when files were added, removed or changed since the build.")
    stale_reason: str | None


class ApiError(BaseModel):
    error: str
    detail: list | None = None


def frame_ancestors(settings: Settings) -> str:
    return "*" if "*" in settings.allowed_origins else " ".join(["'self'", *settings.allowed_origins])


def with_prefix(scope, prefix: str):
    """The scope as ASGI wants it behind a URL prefix: root_path set and the path starting with it, whether the
    proxy stripped the prefix (uvicorn's --root-path case) or passed the full path on."""
    if not prefix:
        return scope
    path = scope["path"]
    if path != prefix and not path.startswith(prefix + "/"):
        scope = {**scope, "path": prefix + path, "raw_path": prefix.encode() + scope.get("raw_path", path.encode())}
    return {**scope, "root_path": prefix}


def _route_path(scope) -> str:
    path, prefix = scope["path"], scope.get("root_path", "")
    return path[len(prefix):] or "/"


class Guard:
    """ASGI middleware: the access token (header, ?token= or cookie) and the security headers on every response."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings
        self.ancestors = frame_ancestors(settings)

    def _authorized(self, request: HTTPConnection) -> tuple[bool, bool]:
        """(token accepted, token came in the URL and should become a cookie)."""
        expected = self.settings.access_token.encode()
        ok = lambda v: bool(v) and hmac.compare_digest(v.encode(), expected)
        auth = request.headers.get("authorization", "")
        if ok(auth.removeprefix("Bearer ").strip()) or ok(request.headers.get("x-access-token", "")) or ok(request.cookies.get(COOKIE, "")):
            return True, False
        return (True, True) if ok(request.query_params.get("token", "")) else (False, False)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        scope = with_prefix(scope, self.settings.root_path)
        path, set_cookie = _route_path(scope), False
        if self.settings.access_token and path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES) and scope.get("method") != "OPTIONS":
            allowed, set_cookie = self._authorized(HTTPConnection(scope))
            if not allowed:
                return await self._refuse(scope, receive, send, path)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                csp = headers.get("content-security-policy")
                headers["content-security-policy"] = f"{csp}; frame-ancestors {self.ancestors}" if csp else f"frame-ancestors {self.ancestors}"
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "same-origin"
                if set_cookie:
                    headers.append("set-cookie", self._cookie(scope))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie(self, scope) -> str:
        """The token as a cookie, so the page's own requests carry it; cross-site iframes need HTTPS for that."""
        response = Response()
        secure = scope.get("scheme") in ("https", "wss")
        response.set_cookie(
            COOKIE, self.settings.access_token, path=self.settings.root_path or "/", httponly=True,
            secure=secure, samesite="none" if secure else "lax", partitioned=secure,
        )
        return response.headers["set-cookie"]

    async def _refuse(self, scope, receive, send, path: str):
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        message = ui_texts()["unauthorized"]
        response = (
            JSONResponse({"error": message}, status_code=401) if path.startswith("/api/")
            else HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{escape(message)}</p>", status_code=401)
        )
        await response(scope, receive, send)


def health(rag: RAG, settings: Settings) -> Health:
    idx = rag.index
    try:
        reason = rag.stale_reason()
    except RagError as e:
        reason = str(e)
    return Health(
        status="ok", documents=len(idx.documents), chunks=len(idx.chunks), model=rag.embedder.model_id,
        built_at=idx.manifest.get("built_at"), up_to_date=reason is None, stale_reason=reason,
    )


def create_app(rag: RAG, settings: Settings) -> FastAPI:
    """The whole server as one ASGI app; `rag` is loaded once and shared by every request and chat."""
    app = FastAPI(
        title="Вопросы по новостям — API", version="1", docs_url=None, redoc_url=None,
        description="Answers with citations from the indexed articles. With an access token set, send "
        "`Authorization: Bearer <token>` (or `X-Access-Token`).",
    )
    errors = {422: {"model": ApiError, "description": "Empty, over-long or malformed question."}, 401: {"model": ApiError}}

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or 'body'}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": problems, "detail": json.loads(json.dumps(exc.errors(), default=str))}, status_code=422)

    @app.exception_handler(QuestionError)
    async def bad_question(request: Request, exc: QuestionError):
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(RagError)
    async def unavailable(request: Request, exc: RagError):
        return JSONResponse({"error": str(exc)}, status_code=503)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    token = [Depends(HTTPBearer(auto_error=False, description="RAG_ACCESS_TOKEN, when the server sets one."))]  # documents it; Guard checks it

    # Fields an answer does not have are left out (extractive answers carry no `mode`, `sentences`, `notice`: issue 16),
    # so the object stays exactly what `rag ask --json` prints.
    @app.post("/api/ask", response_model=AskResponse, response_model_exclude_unset=True, responses=errors, tags=["api"],
              summary="Ask a question", dependencies=token)
    def ask(body: AskRequest) -> dict:
        """Answer a question with citations, or abstain; the same object as `rag ask --json`."""
        return conversation.ask(rag, body.question, [m.model_dump() for m in body.history]).to_dict()

    @app.get("/api/health", response_model=Health, tags=["api"], summary="Index status")
    def get_health() -> Health:
        """Index status, document and chunk counts, and the embedding model."""
        return health(rag, settings)

    @app.get("/sources/{name:path}", response_class=HTMLResponse, tags=["pages"], summary="Source viewer", responses={404: {"model": ApiError}})
    def source(name: str, start: int | None = None, end: int | None = None, lang: str = "ru") -> HTMLResponse:
        """The cleaned article `name` (a file in the index, nothing else) with [start, end) highlighted."""
        doc = rag.index.documents.get(name)
        if doc is None:
            raise HTTPException(404, "No such article in the index.")
        return HTMLResponse(render_source(doc, start, end, lang, settings), headers={"Content-Security-Policy": PAGE_CSP})

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

    app.mount("/rag-static", StaticFiles(directory=STATIC), name="rag-static")
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")
    for lang in languages():
        mount_chat(app, rag, settings, f"/embed/{lang}", lang, embed=True)
    mount_chat(app, rag, settings, "/")  # last: it takes every path not matched before
    app.add_middleware(Guard, settings=settings)
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "X-Access-Token"], max_age=600,
    )
    return app


def serve(settings: Settings) -> None:
    """Load the index once and run the server until interrupted."""
    rag = RAG(settings)
    app = create_app(rag, settings)
    print(f"rag: serving {len(rag.index.documents)} articles at http://{settings.host}:{settings.port}{settings.root_path}/", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=3)
