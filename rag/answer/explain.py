"""`rag ask --explain`: the question's analysis, each candidate sentence, and which rule accepted or rejected it."""
from __future__ import annotations

from rag.answer.decide import Decision
from rag.answer.phrase import shortest

MAX_CANDIDATES = 8
QUOTE_CHARS = 110


def lines(d: Decision) -> list[str]:
    """Readable lines: e.g. "kind: date (from «В каком году»)", then one line per candidate with its verdict."""
    q = d.question
    out = [f"question: {q.text}", f"kind: {q.kind}" + (f" (from «{q.phrase}»)" if q.phrase else " (no interrogative phrase)")]
    for name in ("focus", "entities", "numbers", "years", "ordinals", "describes"):
        if value := getattr(q, name):
            out.append(f"{name}: {', '.join(map(str, value)) if isinstance(value, tuple) else value}")
    if q.role:
        out.append(f"role terms: {', '.join(sorted(q.role))}")
    out.append(f"threshold: {d.threshold:.3f}")
    for i, c in enumerate(d.candidates[:MAX_CANDIDATES], 1):
        e = c.evidence
        verdict = "accepted" if c.accepted else f"rejected by {c.checks[-1].rule}: {c.checks[-1].why}"
        if c.accepted and c.confidence < d.threshold:
            verdict = f"accepted by every rule, but confidence {c.confidence:.3f} < {d.threshold:.3f}"
        out.append(f"[{i}] {e.source} conf {c.confidence:.3f} — {verdict}")
        out.append(f"    «{e.text[:QUOTE_CHARS]}{'…' if len(e.text) > QUOTE_CHARS else ''}»")
        if spans := [f"{e.document[a:b]}/{k}" for a, b, k in e.entities]:
            out.append(f"    entities: {', '.join(spans[:10])}")
        if c.accepted and (phrase := shortest(q, e)):
            out.append(f"    phrase: {phrase}")
    out.append("decision: abstain" if d.abstained else f"decision: answer from [{d.candidates.index(d.best) + 1}]")
    return out
