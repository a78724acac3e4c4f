#!/usr/bin/env python3
"""Smoke-check a local OpenAI-compatible LLM server through LangChain's ChatOpenAI.

    python tools/llm/check.py http://127.0.0.1:8091 [--model NAME] [--max-tokens 160] [--cold]

Sends a Russian system + user message with two numbered passages and a question
that only passage [2] answers, streams the reply, prints the tokens as they come,
then the time to first token and the generation speed (--cold: the server must not
reuse its prompt cache, so the time to first token includes reading the prompt).
Exit code 0 when the reply states the fact from passage [2] without echoing the
passages back, 1 otherwise, 2 when the server is unreachable.

Offline by construction: before anything else it refuses every DNS lookup of a
non-local name and every socket connection to a non-loopback address, so a hidden
download (tiktoken files, a model hub) fails loudly and is counted. Token counting goes to the
server's own /tokenize endpoint through ChatOpenAI's `custom_get_token_ids`
(without it, `get_num_tokens()` downloads tiktoken's BPE files).
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
import time
import urllib.error
import urllib.request

# ---------------------------------------------------------------- offline guard
BLOCKED: list[str] = []
_orig_connect = socket.socket.connect
_orig_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX path
        return True
    host = address[0]
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


def _guarded_connect(self, address):
    if not _is_local(address):
        BLOCKED.append(str(address))
        raise OSError(f"check.py offline guard: connection to {address!r} refused")
    return _orig_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        BLOCKED.append(str(address))
        return 111  # ECONNREFUSED
    return _orig_connect_ex(self, address)


_orig_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost") and not _is_local((name, 0)):
        try:
            ipaddress.ip_address(name)  # a literal non-loopback IP: connect() will refuse it
        except ValueError:
            BLOCKED.append(f"dns:{name}")
            raise socket.gaierror(socket.EAI_NONAME, f"check.py offline guard: lookup of {name!r} refused")
    return _orig_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo

# ---------------------------------------------------------------- the test case
# Keep the instructions simple: asking these small models to also cite "[N]" makes them answer
# with the bare marker "[2]" and no fact (both the 0.5B and the 1.5B, at temperature 0).
SYSTEM = (
    "Ты — ассистент, который отвечает на вопросы по новостным статьям. "
    "Отвечай по-русски одним полным предложением, опираясь только на приведённые фрагменты."
)
PASSAGES = [
    "В Казани завершили реконструкцию набережной озера Кабан. Работы заняли два года "
    "и обошлись городскому бюджету в 3,4 миллиарда рублей. На набережной появились "
    "велодорожки и летний кинотеатр.",
    "Мэрия Екатеринбурга утвердила проект второй линии метро. Линия пройдёт от "
    "Верх-Исетского района до Уралмаша, на ней построят девять станций. Открыть "
    "первый участок планируют в 2031 году.",
]
QUESTION = "Сколько станций построят на второй линии метро в Екатеринбурге?"
EXPECTED_ANY = ("девят", "9 ")  # «девять станций» / «9 станций»


def user_message() -> str:
    ctx = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(PASSAGES, 1))
    return f"Фрагменты:\n\n{ctx}\n\nВопрос: {QUESTION}"


def http_json(url: str, payload: dict | None = None, timeout: float = 10.0):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url", nargs="?", default="http://127.0.0.1:8091", help="server root, without /v1")
    ap.add_argument("--model", help="model id (default: the first one the server lists)")
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--cold", action="store_true", help="ask the server not to reuse its prompt cache")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole request")
    args = ap.parse_args()
    root = args.url.rstrip("/").removesuffix("/v1")

    try:
        models = http_json(root + "/v1/models")
    except OSError as e:
        print(f"server not reachable at {root}: {e}", file=sys.stderr)
        return 2
    model = args.model or models["data"][0]["id"]

    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_openai import ChatOpenAI

    def token_ids(text: str) -> list[int]:
        """The server's own tokenizer (no tiktoken download): llama.cpp's server (xllamacpp) has
        POST /tokenize {"content"}, llama-cpp-python's has POST /extras/tokenize {"input"}."""
        for path, key in (("/tokenize", "content"), ("/extras/tokenize", "input")):
            try:
                return http_json(root + path, {key: text})["tokens"]
            except urllib.error.HTTPError as e:
                if e.code not in (404, 405, 422):
                    raise
        return list(range(max(1, len(text) // 4)))  # no tokenizer endpoint: a rough estimate

    llm = ChatOpenAI(
        base_url=root + "/v1",
        api_key="x",
        model=model,
        streaming=True,
        stream_usage=True,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        timeout=args.timeout,
        max_retries=0,
        custom_get_token_ids=token_ids,
        extra_body={"cache_prompt": False} if args.cold else None,
    )
    messages = [SystemMessage(SYSTEM), HumanMessage(user_message())]
    prompt_tokens = sum(llm.get_num_tokens(m.content) for m in messages)
    print(f"model: {model}   prompt ≈ {prompt_tokens} tokens (server tokenizer)")
    print("-" * 72)

    t0 = time.perf_counter()
    t_first = None
    n_chunks = 0
    text = []
    usage = None
    for chunk in llm.stream(messages):
        if chunk.content:
            if t_first is None:
                t_first = time.perf_counter()
            n_chunks += 1
            text.append(chunk.content)
            print(chunk.content, end="", flush=True)
        if getattr(chunk, "usage_metadata", None):
            usage = chunk.usage_metadata
    t_end = time.perf_counter()
    print()
    print("-" * 72)

    answer = "".join(text)
    if t_first is None:
        print("FAIL: no tokens streamed")
        return 1
    n_out = (usage or {}).get("output_tokens") or n_chunks
    gen_s = max(t_end - t_first, 1e-9)
    speed = (n_out - 1) / gen_s if n_out > 1 else 0.0
    print(f"time to first token: {t_first - t0:.2f} s")
    print(f"generated: {n_out} tokens in {t_end - t0:.2f} s total, {speed:.1f} tokens/s after the first")
    if usage:
        print(f"usage: prompt {usage.get('input_tokens')} / completion {usage.get('output_tokens')} tokens")
    print(f"non-loopback connections attempted: {len(BLOCKED)} {BLOCKED if BLOCKED else ''}")
    low = answer.lower() + " "
    has_fact = any(k in low for k in EXPECTED_ANY)
    # a base (non-chat) model tends to echo the passages back: that has the fact but answers nothing
    echoes = "казан" in low or "кабан" in low or len(answer) > 400
    ok = has_fact and not echoes
    if echoes:
        print("the reply echoes the passages instead of answering")
    print(f"answer has the fact from passage [2] (девять станций): {'yes' if ok else 'NO'}")
    return 0 if ok and not BLOCKED else 1


if __name__ == "__main__":
    sys.exit(main())
