"""Every route the server has, our own and Gradio's, against the token and the embedding-origin rules; path
traversal against every route that takes a path. (tests/test_api.py checks the main routes one by one.)"""
import re

import httpx
import pytest
from conftest import INTRANET_ORIGIN, WEB_TOKEN
from starlette.routing import Mount

from rag.serve.api import create_app
from rag.serve.guard import OPEN_PATHS, OPEN_PREFIXES

EVIL = "http://evil.example"


def all_routes(app, prefix=""):
    """(method, path) of every route, mounted apps (the chats, static files) included, parameters filled in."""
    for route in app.routes:
        if isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            if inner is None:  # static files
                yield "GET", prefix + route.path + "/x"
            else:
                yield from all_routes(route.app, prefix + route.path)
            continue
        if hasattr(route, "original_router"):  # FastAPI's include_router (Gradio's API routes)
            yield from all_routes(route.original_router, prefix + route.include_context.prefix)
            continue
        path = re.sub(r"\{[^}]+\}", "x", prefix + route.path) or "/"
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method not in ("HEAD", "OPTIONS"):
                yield method, path


@pytest.fixture(scope="module")
def routes(web_rag):
    found = sorted(set(all_routes(create_app(web_rag, web_rag.settings))))
    assert len(found) > 60 and ("POST", "/gradio_api/queue/join") in found and ("GET", "/embed/ru/config") in found
    return found


class Head:
    """Status, headers and the start of the body: streaming routes (Gradio's queue, heartbeats) never end."""

    def __init__(self, response: httpx.Response, body: bytes):
        self.status_code, self.headers, self.text = response.status_code, response.headers, body.decode(errors="replace")


def request(base, method, path, **kw):
    with httpx.stream(method, base + path, timeout=30, follow_redirects=False, **kw) as r:
        body = b""
        if "text/event-stream" not in r.headers.get("content-type", ""):
            for part in r.iter_bytes():
                body += part
                if len(body) > 4096:
                    break
        return Head(r, body)


def test_every_route_needs_the_token_unless_it_is_public(guarded_server, routes):
    refused, public = [], []
    for method, path in routes:
        r = request(guarded_server, method, path)
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            public.append(path)
            assert r.status_code != 401, (method, path)
        elif r.status_code != 404 or not ("upload" in path or "/gradio_api/call/" in path):  # closed for everyone
            assert r.status_code == 401, (method, path, r.status_code)
            refused.append(path)
            wrong = ({"Authorization": "Bearer wrong"}, {"X-Access-Token": WEB_TOKEN + "x"}, {"Cookie": "rag_token=wrong"})[len(refused) % 3]
            assert request(guarded_server, method, path, headers=wrong).status_code == 401, (method, path, wrong)
    assert len(refused) > 50


def test_with_the_token_no_route_is_refused_or_breaks(guarded_server, routes):
    for method, path in routes:
        try:
            r = request(guarded_server, method, path, headers={"Authorization": f"Bearer {WEB_TOKEN}"})
        except httpx.RemoteProtocolError as e:
            raise AssertionError((method, path)) from e
        # Gradio's own sign-in refusals (run history needs a Hugging Face login) are not ours: ours say "token".
        ours = r.status_code == 401 and "sign in" not in r.text
        assert not ours and r.status_code < 500, (method, path, r.status_code, r.text[:200])


def test_only_the_allowed_origin_may_call_or_frame_any_route(live_server, routes):
    for method, path in routes:
        evil = request(live_server, method, path, headers={"Origin": EVIL})
        assert evil.headers.get("access-control-allow-origin") in (None, ""), (method, path)
        assert EVIL not in evil.headers.get("content-security-policy", ""), (method, path)
        assert "frame-ancestors 'self' " + INTRANET_ORIGIN in evil.headers.get("content-security-policy", ""), (method, path)
        assert evil.headers.get("x-content-type-options") == "nosniff", (method, path)
    preflight = httpx.options(f"{live_server}/api/ask", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("access-control-allow-origin") is None
    good = httpx.options(f"{live_server}/api/ask", headers={"Origin": INTRANET_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert good.headers.get("access-control-allow-origin") == INTRANET_ORIGIN


TRAVERSALS = ["../pyproject.toml", "..%2fpyproject.toml", "%2e%2e/%2e%2e/etc/passwd", "..%5c..%5cetc%5cpasswd", "%252e%252e%252fetc%252fpasswd",
              "....//....//etc/passwd", "..;/pyproject.toml", "%c0%ae%c0%ae/etc/passwd", "/etc/passwd", "//etc/passwd", "..%00/etc/passwd",
              "leak.txt", "secret.cfg", "%2e%2e%2fsecret.cfg"]


@pytest.mark.parametrize("prefix", ["/sources/", "/rag-static/", "/docs-assets/", "/gradio_api/file=", "/embed/ru/gradio_api/file=",
                                    "/gradio_api/static/", "/static/", "/assets/", "/embed/en/assets/"])
def test_no_route_that_takes_a_path_leaves_its_folder(live_server, prefix):
    from test_api import raw_get

    for t in TRAVERSALS:
        status, body = raw_get(live_server, prefix + t)
        assert status in (400, 403, 404, 405, 422) or (status == 200 and b"root:x:" not in body), (prefix + t, status)
        assert b"root:x:" not in body and b"[project]" not in body and b"hunter2" not in body and "утечка".encode() not in body, prefix + t
