"""Generated answers (issue 16): LangChain's ChatOpenAI, against any OpenAI-compatible endpoint (vLLM, Ollama,
llama.cpp's server), writes the answer from the retrieved evidence, streaming; rag.answer.verify checks every
sentence against its passage before it is shown. The extractive decision comes first and stays: the model is
asked only when extraction answered from an evidence sentence, and every failure of the endpoint falls back to
the extractive answer with a one-line notice.
"""
from __future__ import annotations

import dataclasses
import re
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from rag.answer import verify
from rag.answer.extract import Answer, Citation
from rag.answer.rules import RULES, asked
from rag.config import DATA_DIR, Settings
from rag.errors import SettingsError
from rag.retrieve.retriever import Evidence
from rag.texts import text

PROMPT_FILE = DATA_DIR / "prompts" / "generate.toml"
FENCE = re.compile(r"`{3,}")


@dataclass
class Sentence:
    """One generated sentence as checked: `citations` number the answer's citations (1-based)."""

    text: str
    supported: bool
    citations: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # claims no passage holds, for unsupported ones


@dataclass
class Generated(Answer):
    """An answer in llm mode: generated and verified (`mode` "llm"), or the extractive one ("extractive") with a
    notice saying why."""

    mode: str = "llm"
    sentences: list[Sentence] = field(default_factory=list)
    notice: str | None = None


@cache
def prompt() -> dict:
    return tomllib.loads(PROMPT_FILE.read_text(encoding="utf-8"))


def choose_passages(extracted: Answer, evidence: list[Evidence], n: int) -> list[Evidence]:
    """The extractive answer's cited sentences first (the answer, then its strong supporters), then the best
    other evidence that is not a heading; at most n. (Orders to a bot never become evidence: rag/retrieve/trust.py.)"""
    cited = {(c.source, c.start): i for i, c in enumerate(extracted.citations)}
    first = sorted((e for e in evidence if (e.source, e.start) in cited), key=lambda e: cited[(e.source, e.start)])
    rest = [e for e in evidence if (e.source, e.start) not in cited and not e.heading]
    return (first + rest)[:n]


def messages(question: str, passages: list[Evidence]) -> list[tuple[str, str]]:
    """The system message and the user message with the numbered passages, each fenced (a ``` inside an article
    is removed first, so no passage can close its fence and speak as the prompt)."""
    p = prompt()
    fenced = "\n\n".join(p["passage"].format(n=i, text=FENCE.sub("", e.text)) for i, e in enumerate(passages, 1))
    return [("system", p["system"]), ("human", p["user"].format(passages=fenced, question=FENCE.sub("", question)))]


def reason(exc: Exception) -> str:
    """What went wrong with the endpoint, in a few words for the notice: «APIConnectionError: Connection error.»"""
    status = getattr(exc, "status_code", None)
    detail = " ".join(str(exc).split())[:80]
    return f"{type(exc).__name__}{f' {status}' if status else ''}{f': {detail}' if detail else ''}"


def fallback(extracted: Answer, notice: str | None) -> Generated:
    """The extractive answer as llm mode returns it."""
    fields = {f.name: getattr(extracted, f.name) for f in dataclasses.fields(Answer)}
    return Generated(**fields, mode="extractive", notice=notice)


def the_kind_asked(question: str, said: str, passage: Evidence, settings: Settings) -> bool:
    """The extractive rules of what a question asks for hold the model's answer too: «Сколько…» needs a number,
    «Кто…» a person, «Когда…» a time (the rules of rag/answer/rules.py that a question's wording switches on)."""
    a = asked(question, 1.0, settings)
    said_as_evidence = dataclasses.replace(passage, text=said)
    return all(RULES[kind].check(a, said_as_evidence) for kind in a.kinds
               if kind not in settings.disabled_rules and RULES[kind].applies == "evidence")  # a preference holds nothing


class Generator:
    """One chat model client shared by every request (threads too)."""

    def __init__(self, settings: Settings):
        if not settings.llm_url:
            raise SettingsError(
                "RAG_ANSWER_MODE=llm needs an endpoint: set RAG_LLM_URL (--llm-url) to an OpenAI-compatible "
                "server, e.g. http://127.0.0.1:8091/v1 (tools/llm/serve.sh small 8091 starts a local one)"
            )
        self.settings = settings
        self._chat = None
        self._lock = threading.Lock()

    def chat(self):
        """ChatOpenAI for the endpoint, made on first use (the model's name may have to be asked for)."""
        with self._lock:
            if self._chat is None:
                from langchain_openai import ChatOpenAI

                s = self.settings
                key = s.llm_key or "none"  # the client insists on a key; local servers ignore it
                self._chat = ChatOpenAI(
                    base_url=s.llm_url, api_key=key, model=s.llm_model or self._first_model(key),
                    streaming=True, temperature=s.llm_temperature, max_tokens=s.llm_max_tokens,
                    timeout=s.llm_timeout, max_retries=0,  # a retry doubles the wait; the fallback is instant
                    custom_get_token_ids=self._token_ids,  # else get_num_tokens() downloads tiktoken files
                )
            return self._chat

    def _first_model(self, key: str) -> str:
        import openai

        s = self.settings
        with openai.OpenAI(base_url=s.llm_url, api_key=key, timeout=s.llm_timeout, max_retries=0) as client:
            return client.models.list().data[0].id

    def _token_ids(self, content: str) -> list[int]:
        """The endpoint's own tokenizer (llama.cpp's and vLLM's servers have POST /tokenize beside /v1)."""
        import httpx

        root = self.settings.llm_url.removesuffix("/v1")
        reply = httpx.post(f"{root}/tokenize", json={"content": content}, timeout=self.settings.llm_timeout)
        reply.raise_for_status()
        return reply.json()["tokens"]

    def stream(self, question: str, evidence: list[Evidence], extracted: Answer) -> Iterator[str | Generated]:
        """The generated text piece by piece as the endpoint writes it, then the verified answer (last). An
        abstention stands (the calibrated decision: the model cannot answer what retrieval abstained on), and so
        does an answer that is not quoted from the evidence (a document's metadata): no generation for them."""
        s = self.settings
        passages = choose_passages(extracted, evidence, s.llm_passages)
        quoted = bool(extracted.citations and passages) and (passages[0].source, passages[0].start) == (extracted.citations[0].source, extracted.citations[0].start)
        if extracted.abstained or not quoted:
            yield fallback(extracted, None)
            return
        t0 = time.perf_counter()
        first, pieces = None, []
        try:
            for chunk in self.chat().stream(messages(question, passages)):
                if time.perf_counter() - t0 > s.llm_timeout:
                    raise TimeoutError(f"no full answer in {s.llm_timeout:.0f} s")
                if isinstance(chunk.content, str) and chunk.content:
                    first = first or time.perf_counter()
                    pieces.append(chunk.content)
                    yield chunk.content
        # Whatever the endpoint or its client raise (a refused connection, a timeout, a 429, a malformed stream),
        # the extractive answer is there: the user gets it with a notice, never an error.
        except Exception as exc:  # noqa: BLE001
            yield fallback(extracted, text("llm_unavailable", reason=reason(exc)))
            return
        answer = verified(extracted, "".join(pieces), passages, question, s)
        answer.timings_ms = {"generation": round((time.perf_counter() - t0) * 1000, 1)}
        if first:
            answer.timings_ms["first_token"] = round((first - t0) * 1000, 1)
        yield answer


def verified(extracted: Answer, generated: str, passages: list[Evidence], question: str, settings: Settings) -> Generated:
    """The generated answer with only its supported sentences, each citing the passages that hold it as exact
    quotes; the extractive answer (with a notice) when none is supported or they do not say what was asked."""
    checked = verify.check(generated, [e.text for e in passages], prompt()["refusals"], question)
    citations: list[Citation] = []
    sentences = []
    for c in checked:
        numbers = []
        for n in c.supported_by:
            e = passages[n - 1]
            cite = Citation(e.source, e.text, e.start, e.end, round(e.score, 4))  # described by the pipeline (cite)
            if cite not in citations:
                citations.append(cite)
            numbers.append(citations.index(cite) + 1)
        if not c.refusal:
            sentences.append(Sentence(c.text, c.supported, numbers, list(c.missing)))
    shown = [s for s in sentences if s.supported]
    said = " ".join(s.text for s in shown)
    if not shown or not the_kind_asked(question, said, passages[0], settings):
        answer = fallback(extracted, text("llm_unsupported" if not shown else "llm_wrong_kind"))
        answer.sentences = sentences
        return answer
    dropped = len(sentences) - len(shown)
    notice = text("llm_dropped", count=dropped) if dropped else None
    return Generated(extracted.question, said, False, citations, mode="llm", sentences=sentences, notice=notice)
