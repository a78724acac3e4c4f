"""The intranet guard, ASGI middleware in front of everything: the access token (header, ?token= once, then an
HttpOnly cookie) and the security headers on every response, behind an optional URL prefix."""
from __future__ import annotations

import hmac
from html import escape
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection

from rag.config import Settings
from rag.serve import documents
from rag.serve.render import ui_texts

COOKIE = "rag_token"
OPEN_PATHS = {"/widget.js", "/api/health", "/docs", "/openapi.json", "/favicon.ico"}
OPEN_PREFIXES = ("/rag-static/", "/docs-assets/")
# Gradio's file-upload routes, closed for everyone (token or not) unless an admin token is set (nobody may fill
# the temp folder). gradio_client's REST calls stay open for the one public endpoint, /ask.
CLOSED_SUFFIXES = ("/gradio_api/upload", "/gradio_api/upload_progress")

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
        """(token accepted, token came in the URL and should become a cookie). The admin token opens the
        API too, so an admin's client sends one token."""
        expected = self.settings.access_token.encode()
        ok = lambda v: bool(v) and hmac.compare_digest(v.encode(), expected)
        if ok(request.query_params.get("token", "")):  # even with the cookie set: the URL must lose it
            return True, True
        auth = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        header = ok(auth) or ok(request.headers.get("x-access-token", ""))
        if documents.admin_allowed(self.settings.admin_token, request.headers.get("x-admin-token") or auth):
            return True, False
        return header or ok(request.cookies.get(COOKIE, "")), False

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        scope = with_prefix(scope, self.settings.root_path)
        path, set_cookie = _route_path(scope), False
        if self.settings.access_token and path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES) and scope.get("method") != "OPTIONS":
            allowed, set_cookie = self._authorized(HTTPConnection(scope))
            if not allowed:
                return await self._refuse(scope, receive, send, path)
            if set_cookie and scope["type"] == "http" and scope.get("method") == "GET" and not path.startswith("/api/"):
                return await self._to_cookie(scope, receive, send)

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

        # The «Статьи» panel of the full chat takes a file through Gradio's upload only where an admin token is
        # set (the file then waits in Gradio's temp folder, at most upload_max_bytes, until the token is checked).
        route = path.rstrip("/")
        if route.endswith(CLOSED_SUFFIXES) and not (self.settings.admin_token and route in CLOSED_SUFFIXES):
            return await self._closed(scope, receive, send_with_headers)
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

    async def _to_cookie(self, scope, receive, send):
        """A page opened with ?token=: the token goes into an HttpOnly cookie and the address bar loses it (a
        redirect to the same URL without it), so it is not in the history, in bookmarks or in shared links."""
        request = HTTPConnection(scope)
        query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        response = RedirectResponse(scope["path"] + (f"?{query}" if query else ""), status_code=303)
        response.headers.append("set-cookie", self._cookie(scope))
        response.headers["referrer-policy"] = "no-referrer"
        response.headers["cache-control"] = "no-store"
        await response(scope, receive, send)

    async def _closed(self, scope, receive, send):
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        await JSONResponse({"error": "Not found: this server takes no file uploads."}, status_code=404)(scope, receive, send)

    async def _refuse(self, scope, receive, send, path: str):
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        message = ui_texts()["unauthorized"]
        response = (
            JSONResponse({"error": message}, status_code=401) if path.startswith("/api/")
            else HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{escape(message)}</p>", status_code=401)
        )
        await response(scope, receive, send)
