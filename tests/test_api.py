"""The JSON API, the source viewer and the intranet settings, against a running server (real pipeline, real index)."""
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import ADMIN_TOKEN, INTRANET_ORIGIN, ROOT, SEEDS, WEB_TOKEN

from rag.serve.api import create_app
from rag.serve.render import languages

QUESTIONS = [json.loads(line)["question"] for line in (Path(__file__).parent / "data" / "questions.jsonl").open(encoding="utf-8")]
SHOS = "001_6b3bc755e8fe2ed9.txt"


def ask(base, body, headers=None, **kw):
    # ASCII-escaped JSON, so that a test can send a lone surrogate (httpx's json= cannot encode one).
    headers = {"content-type": "application/json", **(headers or {})}
    return httpx.post(f"{base}/api/ask", content=json.dumps(body), headers=headers, timeout=120, **kw)


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET exactly this path: no client-side normalisation of `..` or percent-encoding."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def test_ask_returns_what_rag_ask_json_prints(live_server, web_rag):
    r = ask(live_server, {"question": "Где прошла сессия ОДКБ?"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    got, expected = r.json(), web_rag.ask("Где прошла сессия ОДКБ?").to_dict()
    assert set(got) == {"question", "answer", "abstained", "citations", "timings_ms"}
    assert {k: v for k, v in got.items() if k != "timings_ms"} == {k: v for k, v in expected.items() if k != "timings_ms"}
    assert "Душанбе" in got["answer"] and got["citations"][0]["source"] == "003_83e2e03ee03bef0d.txt"
    assert got["timings_ms"]["total"] > 0
    c = got["citations"][0]
    assert (c["title"], c["date"], c["outlet"]) == ("Токаев высказался о размещении афганских беженцев", "2021-09-16", "Tengrinews.kz")
    assert "heading" in c


def test_the_api_answers_a_question_about_a_documents_date_from_its_metadata(live_server):
    got = ask(live_server, {"question": "Когда вышла статья Tengrinews о беженцах?"}).json()
    assert got["answer"] == "16 сентября 2021"
    assert got["citations"][0]["quote"] == "Токаев высказался о размещении афганских беженцев"


def test_follow_up_uses_the_history(live_server):
    history = [{"role": "user", "content": "Где пройдет саммит ШОС?"}, {"role": "assistant", "content": "…"}]
    got = ask(live_server, {"question": "Кто об этом заявил?", "history": history}).json()
    assert "саммит ШОС" in got["question"] and not got["abstained"]
    assert got["citations"][0]["source"] == SHOS and "Казахстан" in got["answer"]
    when = ask(live_server, {"question": "А когда?", "history": history}).json()
    assert when["question"].startswith("Когда") and "саммит ШОС" in when["question"]


def events(text: str) -> list[tuple[str, dict]]:
    """Server-sent events as (name, payload)."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


@pytest.mark.parametrize("how", ["accept", "path"])
def test_ask_streams_the_pipeline_steps_as_server_sent_events(live_server, how):
    body = {"question": "А кто об этом заявил?", "history": [{"role": "user", "content": "Сколько конфликтов было в мире за прошлый год?"}]}
    if how == "accept":
        r = httpx.post(f"{live_server}/api/ask", json=body, headers={"Accept": "text/event-stream"}, timeout=120)
    else:
        r = httpx.post(f"{live_server}/api/ask/stream", json=body, timeout=120)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    got = events(r.text)
    assert [name for name, _ in got] == ["understood", "retrieved", "evidence", "decided", "answered"]
    assert got[0][1]["rewritten"] is True
    assert got[1][1]["hits"][0]["source"] == SHOS
    final = got[-1][1]
    assert "Токаев" in final["answer"] and final["citations"][0]["source"] == SHOS and final["timings_ms"]["total"] > 0
    assert ask(live_server, body).json()["answer"] == final["answer"]  # one-shot JSON: the same answer


def test_a_bad_question_is_refused_before_the_stream_starts(live_server):
    r = httpx.post(f"{live_server}/api/ask/stream", json={"question": "  "}, timeout=60)
    assert r.status_code == 422 and r.json()["error"]


def test_feedback_is_stored_and_exported_as_eval_jsonl(live_server, web_rag):
    answer = ask(live_server, {"question": "Где прошла сессия ОДКБ?"}).json()
    liked = {"rating": "up", "question": answer["question"], "answer": answer["answer"], "citations": answer["citations"]}
    assert httpx.post(f"{live_server}/api/feedback", json=liked, timeout=30).status_code == 201
    disliked = {"rating": "down", "question": "Какой сейчас курс доллара?", "answer": "…", "abstained": True}
    assert httpx.post(f"{live_server}/api/feedback", json=disliked, timeout=30).status_code == 201
    rows = [json.loads(line) for line in httpx.get(f"{live_server}/api/feedback/export", timeout=30).text.splitlines()]
    up = next(r for r in rows if r["question"] == "Где прошла сессия ОДКБ?" and r["feedback"] == "up")
    assert up["answer"] == answer["answer"] and up["sources"] == ["003_83e2e03ee03bef0d.txt"] and up["answerable"] is True
    down = next(r for r in rows if r["question"] == "Какой сейчас курс доллара?")
    assert down["answerable"] is None and down["disliked_answer"] == "…"
    assert (web_rag.settings.index_dir.parent / "feedback.sqlite3").is_file()  # beside the index folder, not in it


def test_gradio_client_finds_and_calls_the_named_endpoint(live_server):
    from gradio_client import Client

    client = Client(live_server + "/", verbose=False)
    api = client.view_api(print_info=False, return_format="dict")
    assert "/ask" in api["named_endpoints"]
    assert [p["parameter_name"] for p in api["named_endpoints"]["/ask"]["parameters"]][:1] == ["question"]
    got = client.predict("Где прошла сессия ОДКБ?", api_name="/ask")
    assert "Душанбе" in got["answer"] and got["citations"][0]["source"] == "003_83e2e03ee03bef0d.txt"
    follow = client.predict("А кто там участвовал?", [{"role": "user", "content": "Где прошла сессия ОДКБ?"},
                                                      {"role": "assistant", "content": got["answer"]}], api_name="/ask")
    assert "Токаев" in follow["answer"]


def test_health_reports_the_index(live_server, web_rag):
    health = httpx.get(f"{live_server}/api/health").json()
    assert health["status"] == "ok" and health["up_to_date"] is True
    assert health["documents"] == 6 == len(web_rag.index.documents)
    assert health["chunks"] == len(web_rag.index.chunks) > 100
    assert health["model"] == web_rag.embedder.model_id
    assert health["build"] == health["published_build"] == web_rag.index.path.name and health["serving_since"]
    assert health["watching"] is False and health["stale_reason"] is None


def test_articles_are_listed_and_writes_are_off_without_an_admin_token(live_server, web_rag):
    listed = httpx.get(f"{live_server}/api/documents").json()
    assert listed["admin"] is False and listed["build"] == web_rag.index.path.name
    assert sorted(d["file"] for d in listed["documents"]) == sorted(web_rag.index.documents)
    assert sum(d["chunks"] for d in listed["documents"]) == len(web_rag.index.chunks)
    for response in (httpx.post(f"{live_server}/api/documents", files={"file": ("a.txt", b"x")}, headers={"X-Admin-Token": "x"}),
                     httpx.delete(f"{live_server}/api/documents/{SHOS}", headers={"X-Admin-Token": ""})):
        assert response.status_code == 403 and "RAG_ADMIN_TOKEN" in response.json()["error"]


def test_article_writes_need_the_admin_token_and_refuse_bad_uploads(admin_server):
    url = f"{admin_server}/api/documents"
    news = "Жирафья выставка откроется в Твери\n\nТВЕРЬ, 3 мар — Жирафья выставка откроется в Твери 12 мая.\n".encode()
    assert httpx.post(url, files={"file": ("g.txt", news)}).status_code == 403
    assert httpx.post(url, files={"file": ("g.txt", news)}, headers={"X-Admin-Token": "wrong"}).status_code == 403
    admin = {"X-Admin-Token": ADMIN_TOKEN}
    bad = httpx.post(url, files={"file": ("../../.bashrc", news)}, headers=admin)
    assert bad.status_code == 422 and "Имя файла" in bad.json()["error"]
    assert httpx.post(url, files={"file": ("bin.txt", b"\x00" * 99)}, headers=admin).status_code == 422
    assert httpx.post(url, files={"file": ("big.txt", b"a" * 5_000_001)}, headers=admin).status_code == 413
    assert httpx.post(url, data={"file": "not a file"}, headers=admin).status_code == 422
    added = httpx.post(url, files={"file": ("g.txt", news)}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)
    assert added.status_code == 201 and added.json()["documents"] == 7
    assert ask(admin_server, {"question": "Где откроется жирафья выставка?"}).json()["citations"][0]["source"] == "g.txt"
    assert httpx.delete(f"{url}/nope.txt", headers=admin).status_code == 404
    assert httpx.delete(f"{url}/g.txt", headers=admin, timeout=60).json()["documents"] == 6


def test_opening_a_chat_page_runs_no_event(live_server):
    """Gradio closes a session's event stream when the session's last event ends; a question sent in that moment
    gets its answer queued on the server and never shown (the browser test once waited 60 s for it). So a page runs
    no event of its own when it opens: the first event is the reader's."""
    for path in ("", "/embed/ru", "/embed/en"):
        triggers = [t for d in httpx.get(f"{live_server}{path}/config").json()["dependencies"] for _, t in d["targets"]]
        assert "load" not in triggers, (path, triggers)


def test_the_chat_has_an_articles_panel_and_the_widget_has_none(live_server):
    labels = lambda path: [c.get("props", {}).get("label") for c in httpx.get(f"{live_server}{path}/config").json()["components"]]  # noqa: E731
    assert "Статьи" in labels("") and "Статьи" not in labels("/embed/ru")


@pytest.mark.parametrize(
    "body",
    [
        {"question": ""},
        {"question": "   \n\t "},
        {"question": "вопрос " * 200},
        {"question": 42},
        {"question": None},
        {"question": ["Где?"]},
        {},
        {"question": "Где?", "history": "Где пройдет саммит ШОС?"},
        {"question": "Где?", "history": [{"role": "system", "content": "x"}]},
        {"question": "Где?", "unknown": 1},
        {"question": "Где \ud800 саммит?"},
        {"question": "Где\x00 саммит?"},
        {"question": "Где\x1b[31m саммит?"},
        {"question": "Где?", "history": [{"role": "user", "content": "саммит \udfff"}]},
        {"question": "🙂🙂🙂"},
        {"question": "?!… 2024"},
        {"question": "Г̷̢̛д̸̡̛е̵̢̛ ̶п̷̢р̷̛о̷̡й̷̢д̷̛е̷̡т̷̢"},
        {"question": "Где?", "k": 0},
        {"question": "Где?", "k": 10**6},
        {"question": "Где?", "mode": "magic"},
    ],
    ids=["empty", "whitespace", "too-long", "number", "null", "list", "missing", "history-str", "history-role", "extra-field",
         "lone-surrogate", "nul", "escape-sequence", "surrogate-in-history", "emoji-only", "no-letters", "zalgo",
         "k-zero", "k-huge", "mode-unknown"],
)
def test_bad_input_is_a_4xx_with_a_json_error(live_server, body):
    r = ask(live_server, body)
    assert r.status_code == 422 and isinstance(r.json()["error"], str) and r.json()["error"]


def test_raw_lone_surrogate_in_the_json_is_a_422_not_a_500(live_server):
    # Written by hand: a JSON escape of half a surrogate pair, as a broken client sends it.
    r = httpx.post(f"{live_server}/api/ask", content=b'{"question": "\\ud800"}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "суррогат" in r.json()["error"]


def test_questions_without_words_say_what_to_do(live_server):
    assert "нет ни одного слова" in ask(live_server, {"question": "🙂🙂"}).json()["error"]
    assert "надстрочными знаками" in ask(live_server, {"question": "Г̷̢̛д̸̡̛е̵̢̛"}).json()["error"]


def test_api_takes_k_and_mode_like_the_cli(live_server, web_rag):
    for body in ({"question": "Где прошла сессия ОДКБ?", "k": 2, "mode": "bm25"}, {"question": "Где прошла сессия ОДКБ?", "mode": "dense"}):
        got = ask(live_server, body).json()
        want = web_rag.ask(body["question"], k=body.get("k"), mode=body["mode"]).to_dict()
        assert {k: v for k, v in got.items() if k != "timings_ms"} == {k: v for k, v in want.items() if k != "timings_ms"}
    spec = httpx.get(f"{live_server}/openapi.json").json()["components"]["schemas"]["AskRequest"]["properties"]
    assert {"k", "mode"} <= set(spec)


@pytest.mark.parametrize("path", ["/gradio_api/upload", "/embed/ru/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/upload_progress"])
def test_gradio_upload_routes_are_closed_with_and_without_a_token(live_server, guarded_server, path):
    files = {"files": ("x.txt", b"anonymous upload", "text/plain")}
    assert httpx.post(live_server + path, files=files).status_code == 404
    assert httpx.post(guarded_server + path, files=files, headers={"X-Access-Token": WEB_TOKEN}).status_code == 404


def test_symlinks_out_of_the_corpus_are_not_indexed_or_served(live_server, web_rag):
    assert (web_rag.settings.corpus_dir / "leak.txt").is_symlink() and "leak.txt" not in web_rag.index.documents
    status, body = raw_get(live_server, "/sources/leak.txt")
    assert status == 404 and "утечка".encode() not in body


def test_malformed_json_is_a_4xx_with_a_json_error(live_server):
    r = httpx.post(f"{live_server}/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]


def test_question_errors_say_what_to_do(live_server):
    assert "напишите" in ask(live_server, {"question": "  "}).json()["error"]
    assert "сократите" in ask(live_server, {"question": "я" * 1001}).json()["error"]


def test_openapi_page_documents_the_api_offline(live_server):
    spec = httpx.get(f"{live_server}/openapi.json").json()
    assert {"/api/ask", "/api/health"} <= set(spec["paths"])
    assert "history" in json.dumps(spec["components"]["schemas"]["AskRequest"])
    page = httpx.get(f"{live_server}/docs").text
    assets = [a for a in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css") if a in page]
    assert len(assets) == 2 and "cdn" not in page.lower()
    assert all(httpx.get(live_server + a).status_code == 200 for a in assets)


@pytest.mark.parametrize(
    "path",
    [
        "/sources/../pyproject.toml",
        "/sources/../../pyproject.toml",
        "/sources/..%2f..%2fpyproject.toml",
        "/sources/%2e%2e/%2e%2e/pyproject.toml",
        "/sources/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/sources/%252e%252e%252fpyproject.toml",
        "/sources/..%5c..%5cpyproject.toml",
        "/sources/%2fetc%2fpasswd",
        "/sources//etc/passwd",
        "/sources/./003_83e2e03ee03bef0d.txt",
        "/sources/003_83e2e03ee03bef0d.txt%00",
        "/sources/secret.cfg",
        "/sources/nope.txt",
    ],
)
def test_source_viewer_serves_only_indexed_files(live_server, path):
    status, body = raw_get(live_server, path)
    assert status == 404 and b"hunter2" not in body and b"[project]" not in body and b"root:" not in body


def test_source_viewer_highlights_the_cited_span_and_escapes_markup(live_server, web_rag):
    doc = web_rag.index.documents["penguins.txt"]
    start = doc.text.index("МУРМАНСК")
    end = doc.text.index("организаторы.") + len("организаторы.")
    r = httpx.get(f"{live_server}/sources/penguins.txt", params={"start": start, "end": end})
    assert r.status_code == 200 and "script-src" not in r.headers["content-security-policy"]  # default-src 'self' only
    assert "default-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert "<script>alert" not in html and "<b>bold" not in html and "<img src=x" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    marked = html.split('<mark id="cited">')[1].split("</mark>")[0]
    assert marked.startswith("МУРМАНСК, 2 мар") and marked.endswith("сообщили организаторы.")
    # a span outside the text is shown without a highlight
    assert "<mark" not in httpx.get(f"{live_server}/sources/penguins.txt", params={"start": 5, "end": 10**6}).text


def test_cors_allows_only_the_configured_origins(live_server):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = httpx.options(f"{live_server}/api/ask", headers={"Origin": INTRANET_ORIGIN, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == INTRANET_ORIGIN
    other = httpx.options(f"{live_server}/api/ask", headers={"Origin": "http://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
    simple = httpx.get(f"{live_server}/api/health", headers={"Origin": INTRANET_ORIGIN})
    assert simple.headers["access-control-allow-origin"] == INTRANET_ORIGIN


@pytest.mark.parametrize("path", ["/", "/embed/ru/", "/embed/en/", "/sources/penguins.txt", "/widget-demo"])
def test_pages_may_be_framed_only_by_allowed_origins(live_server, path):
    r = httpx.get(live_server + path)
    assert r.status_code == 200
    assert f"frame-ancestors 'self' {INTRANET_ORIGIN}" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_access_token_is_required_by_api_chat_widget_and_sources(guarded_server):
    good = {"question": "Где прошла сессия ОДКБ?"}
    assert ask(guarded_server, good).status_code == 401 and ask(guarded_server, good).json()["error"]
    assert ask(guarded_server, good, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert ask(guarded_server, good, headers={"Authorization": f"Bearer {WEB_TOKEN}"}).status_code == 200
    assert ask(guarded_server, good, headers={"X-Access-Token": WEB_TOKEN}).status_code == 200
    for path in ("/", "/embed/ru/", "/embed/ru/config", "/sources/penguins.txt", "/widget-demo", "/gradio_api/info"):
        assert httpx.get(guarded_server + path).status_code == 401, path
    for path in ("/api/health", "/widget.js", "/rag-static/widget.css", "/docs", "/openapi.json"):
        assert httpx.get(guarded_server + path).status_code == 200, path


def test_token_in_the_url_becomes_a_cookie_and_leaves_the_address_bar(guarded_server):
    with httpx.Client() as client:
        page = client.get(f"{guarded_server}/embed/ru/", params={"token": WEB_TOKEN, "x": "1"})
        assert page.status_code == 303 and "rag_token" in page.headers["set-cookie"]
        assert "Path=/rag" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
        assert page.headers["location"] == "/rag/embed/ru/?x=1"  # the same page, without the token
        assert client.get(f"{guarded_server}/embed/ru/?x=1").status_code == 200
        assert client.get(f"{guarded_server}/embed/ru/config").status_code == 200


def test_prefix_works_whether_the_proxy_strips_it_or_not(guarded_server):
    stripped = guarded_server.removesuffix("/rag")
    headers = {"X-Access-Token": WEB_TOKEN}
    for base in (guarded_server, stripped):
        assert httpx.get(f"{base}/api/health").status_code == 200
        config = httpx.get(f"{base}/embed/en/config", headers=headers).json()
        assert config["root"].endswith("/rag/embed/en")  # Gradio's own URLs carry the prefix
    demo = httpx.get(f"{guarded_server}/widget-demo", headers=headers).text
    assert f'src="{guarded_server}/widget.js"' in demo and f'data-token="{WEB_TOKEN}"' in demo
    assert "/rag/openapi.json" in httpx.get(f"{guarded_server}/docs").text


def test_chat_handles_several_requests_at_once(web_rag):
    settings = web_rag.settings.model_copy(update={"concurrency": 12})
    app = create_app(web_rag, settings)
    chats = [r.app for r in app.routes if hasattr(r, "app") and hasattr(r.app, "get_blocks")]
    assert len(chats) == len(languages()) + 1
    for chat in chats:
        blocks = chat.get_blocks()
        handlers = [fn for fn in blocks.fns.values() if fn.name in ("respond", "run_example")]
        assert len(handlers) == 2 and all(fn.concurrency_limit == 12 for fn in handlers)


def test_concurrent_api_requests_all_succeed(live_server):
    questions = (QUESTIONS * 2)[:50]
    barrier = threading.Barrier(len(questions))

    def one(question):
        barrier.wait()  # all requests leave together
        return ask(live_server, {"question": question})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(questions)) as pool:
        responses = list(pool.map(one, questions))
    seconds = time.perf_counter() - t0
    assert [r.status_code for r in responses] == [200] * len(questions)
    assert [r.json()["question"] for r in responses] == questions
    print(f"\n{len(questions)} concurrent /api/ask requests: all 200 in {seconds:.1f} s")


def test_api_latency_warm(live_server):
    """Prints the warm latency (median of 20 different questions); asserts only that every answer is right-shaped."""
    questions = QUESTIONS[:20]
    ask(live_server, {"question": "Где прошла сессия ОДКБ?"})
    times = []
    for q in questions:
        t0 = time.perf_counter()
        r = ask(live_server, {"question": q})
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200 and r.json()["question"] == q
    print(f"\nPOST /api/ask warm latency over {len(times)} questions: median {statistics.median(times):.0f} ms, "
          f"min {min(times):.0f} ms, max {max(times):.0f} ms")


@pytest.mark.parametrize("path", ["/gradio_api/file=/etc/passwd", "/gradio_api/file=pyproject.toml", "/embed/ru/gradio_api/file=/etc/passwd"])
def test_gradio_serves_no_files_from_disk(live_server, path):
    status, body = raw_get(live_server, path)
    assert status in (403, 404) and b"root:" not in body and b"[project]" not in body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_py_and_rag_serve_take_host_port_and_prefix(seed_rag, seed_settings):
    """`python app.py` configured by RAG_HOST/RAG_PORT/RAG_ROOT_PATH and `rag serve --host --port --root-path`."""
    env = {**os.environ, "RAG_CORPUS_DIR": str(SEEDS), "RAG_INDEX_DIR": str(seed_settings.index_dir)}
    by_env, by_flags = free_port(), free_port()
    servers = {
        f"http://127.0.0.1:{by_env}/app": subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT,
            env={**env, "RAG_HOST": "127.0.0.1", "RAG_PORT": str(by_env), "RAG_ROOT_PATH": "/app"},
        ),
        f"http://127.0.0.1:{by_flags}/cli": subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", str(by_flags), "--root-path", "/cli"],
            cwd=ROOT, env=env,
        ),
    }
    try:
        for base, proc in servers.items():
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, f"{base}: the server exited with {proc.returncode}"
                assert time.monotonic() < deadline, f"{base}: no answer"
                try:
                    health = httpx.get(f"{base}/api/health", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.5)
            assert health.status_code == 200 and health.json()["documents"] == 5
            assert httpx.get(f"{base}/config").json()["root"].endswith(urlsplit(base).path)
    finally:
        for proc in servers.values():
            proc.terminate()
            proc.wait(30)


def test_a_list_answer_keeps_its_items_apart_on_one_escaped_line():
    """A list is quoted with the sentence that introduces it: its paragraphs are shown a line each, not run
    together, and the HTML stays one line (one block for the Markdown renderer) with every text escaped."""
    from rag.answer.extract import Answer, Citation
    from rag.config import Settings
    from rag.serve.render import render_answer, ui_texts

    text = "Поставьте пакеты:\n\nautoconf\n\n<b>automake</b>"
    html = render_answer(Answer("q", text, False, [Citation("a.html", text, 0, len(text), 1.0)]), ui_texts("ru"), Settings(), False)
    assert "Поставьте пакеты:<br>autoconf<br>&lt;b&gt;automake&lt;/b&gt;" in html
    assert "<b>" not in html and "\n" not in html
