"""Why an answer is what it is (`rag ask --explain`): what the question asks of its evidence, each candidate
sentence with the first rule that rejected it (or the preference that put another first), the answer rule's
verdict on the winner, the widen rule that quoted the sentence after it, and the phrase rule that cut the short
answer. It runs the same rules, in the same order, as `decide()` (extract.py)."""
from __future__ import annotations

from dataclasses import dataclass

from rag.answer.extract import candidates, short_answer, widened
from rag.answer.rules import Asked, asked, confidence, enabled, threshold
from rag.config import Settings
from rag.retrieve.retriever import Evidence

SHOWN = 8  # candidates listed; decide() reads on only until one passes


@dataclass(frozen=True)
class Verdict:
    """One candidate sentence: `rejected_by` names the first evidence rule it failed (None: it passed them all)."""

    source: str
    text: str
    confidence: float
    rejected_by: str | None
    unpreferred_by: str | None = None  # the first "prefer" rule it fails (a candidate it likes may have gone first)
    entities: tuple[str, ...] = ()  # the NER's spans of the sentence, as «Иван Петров» PER


@dataclass(frozen=True)
class Explanation:
    asked: Asked
    threshold: float
    verdicts: list[Verdict]
    chosen: int | None  # index into verdicts of the sentence that answers, None when none passed
    refused_by: str | None  # the answer rule that turned the chosen sentence into an abstention
    phrase_rule: str | None  # the phrase rule that cut the short answer, None when the sentence is the answer
    phrase: str
    widened_by: str | None = None  # the widen rule that had the next sentence quoted with the chosen one

    @property
    def abstained(self) -> bool:
        return self.chosen is None or self.refused_by is not None


def first_failed(a: Asked, e: Evidence, kind: str) -> str | None:
    return next((r.name for r in enabled(a.settings, kind) if not r.check(a, e)), None)


def explain(question: str, evidence: list[Evidence], coverage: float, settings: Settings, shown: int = SHOWN) -> Explanation:
    """explain("Когда прошла встреча?", [e("Встреча прошла в Астане."), e("Встреча прошла 9 мая.")], …) lists the
    first as rejected by time_for_when and chooses the second, with the phrase «9 мая» from short_date."""
    a = asked(question, coverage, settings)
    best = next(candidates(a, evidence), None)  # decide()'s own choice
    verdicts, chosen = [], None
    for e in evidence:
        if e is best:
            chosen = len(verdicts)
        if len(verdicts) < shown or e is best:
            verdicts.append(Verdict(e.source, e.text, round(confidence(question, e, coverage, settings), 4), first_failed(a, e, "evidence"),
                                    first_failed(a, e, "prefer"), tuple(f"«{e.text[s:t]}» {kind}" for s, t, kind in e.entities)))
        if (best is None or chosen is not None) and len(verdicts) >= shown:
            break
    refused_by = first_failed(a, best, "answer") if best is not None else None
    widened_by, best = widened(a, best) if best is not None else (None, None)
    phrase_rule, phrase = short_answer(a, best) if best is not None else (None, "")
    return Explanation(a, threshold(question, settings), verdicts, chosen, refused_by, phrase_rule, phrase, widened_by)


def render(x: Explanation) -> str:
    """The explanation as the lines `rag ask --explain` prints."""
    a = x.asked
    demands = {
        "asks for": ", ".join(sorted(a.kinds)) or "a statement (no answer type)",
        "short answer for": ", ".join(sorted(a.leads)) or "-",
        "numbers": ", ".join(a.numbers), "ordinals": ", ".join(map(str, sorted(a.ordinals))),
        "role": " ".join(sorted(a.role or ())), "acronym terms": ", ".join(sorted(a.distinctive)),
        "names": ", ".join(a.names), "counts": a.counted or "",
    }
    lines = ["question analysis:"] + [f"  {k}: {v}" for k, v in demands.items() if v]
    lines.append(f"  language: {'Russian' if a.russian else 'not Russian (cross-lingual threshold)'}; "
                 f"words the articles use: {a.coverage:.0%}; threshold {x.threshold:.3f}")
    lines.append("candidates (best retrieved first):")
    for i, v in enumerate(x.verdicts):
        mark = ("→ chosen" if i == x.chosen else f"✗ {v.rejected_by}" if v.rejected_by
                else f"✓ passes; {v.unpreferred_by} prefers another" if v.unpreferred_by and x.chosen is not None and i < x.chosen
                else "✓ passes (not read: an earlier one won)")
        lines.append(f"  {i + 1}. [{v.confidence:.3f}] {v.source}: «{v.text[:110]}{'…' if len(v.text) > 110 else ''}»  {mark}")
        if i == x.chosen and v.entities:
            lines.append(f"     entities (NER, at index time): {', '.join(v.entities)}")
    if x.chosen is None:
        lines.append("decision: abstain, no candidate passed the evidence rules")
    elif x.refused_by:
        lines.append(f"decision: abstain, the chosen sentence failed {x.refused_by}")
    else:
        widened = f"; with the sentence after it, by {x.widened_by}" if x.widened_by else ""
        lines.append(f"decision: answer{widened}; short answer {'«' + x.phrase + '» by ' + x.phrase_rule if x.phrase_rule else 'none (the sentence)'}")
    return "\n".join(lines)
