"""Pipeline steps as JSON and as server-sent events: what `/api/ask/stream` and the Gradio endpoint send."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import chain

from rag.pipeline import Answered, Decided, Found, Retrieved, Step, Understood, Verified, Written

MAX_HITS = 10  # hits listed in the `retrieved` event


def step_json(step: Step) -> tuple[str, dict]:
    """(event name, payload) of one step."""
    match step:
        case Understood(question, rewritten):
            return "understood", {"question": question, "rewritten": rewritten}
        case Retrieved(query, hits, ms):
            return "retrieved", {"query": query, "hits": [{"source": h.chunk.source, "score": round(h.score, 4)} for h in hits[:MAX_HITS]], "ms": ms}
        case Found(evidence, coverage, ms):
            return "evidence", {"sentences": len(evidence), "coverage": round(coverage, 3), "ms": ms}
        case Decided(answer):
            return "decided", answer.to_dict()
        case Written(piece):  # issue 16: the model's text as it is written, not checked yet
            return "token", {"text": piece}
        case Verified(answer):  # issue 16: every sentence checked; `mode`, `sentences`, `notice`
            return "verified", answer.to_dict()
        case Answered(answer):
            return "answered", answer.to_dict()
    raise TypeError(f"unknown step {step!r}")


def sse(first: Step, rest: Iterable[Step]) -> Iterator[str]:
    """The steps as `event: name / data: json` blocks; a failure mid-way becomes an `error` event."""
    try:
        for step in chain([first], rest):
            name, payload = step_json(step)
            yield f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
    except Exception as e:  # the stream has started: the status is sent already, so the error is an event
        yield f"event: error\ndata: {json.dumps({'error': str(e)}, ensure_ascii=False)}\n\n"
