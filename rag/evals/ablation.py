"""Each answer rule switched off in turn, on the evidence the gated configuration already gathered: what the
rule earns is the metrics' change without it, and the questions it keeps right or wrong."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from rag.answer.rules import RULES
from rag.config import Settings
from rag.evals.dataset import Question
from rag.evals.metrics import Scored, score, summarise
from rag.evals.results import Ablated, ConfigResult
from rag.ingest.corpus import Document
from rag.pipeline import extractive

# The metrics whose change the ablation table shows (others follow from them or do not depend on the rules).
DELTAS = ("key_fact_accuracy", "top_citation_correct", "abstention_precision", "abstention_recall", "false_abstentions",
          "answered_unanswerable", "short_answers")  # the last: the answers a phrase rule cuts short


def rescore(settings: Settings, questions: Sequence[Question], base: ConfigResult, texts: dict[str, str],
            documents: Mapping[str, Document]) -> list[Scored]:
    """The questions answered again from the gathered evidence under `settings` (retrieval is not repeated), as the
    pipeline answers them (a document's metadata and a quotation's attribution included)."""
    out = []
    for q, g, p in zip(questions, base.gathered, base.predictions):
        answer = extractive(g.query, g.evidence, g.coverage, documents, settings).to_dict()
        answer["timings_ms"] = {"total": 0.0}  # no latency: nothing was retrieved again
        out.append(score(q, answer, p["retrieved"], texts))
    return out


def delta(after, before) -> float | None:
    return None if after is None or before is None else round(after - before, 4)


def ablate(settings: Settings, questions: Sequence[Question], base: ConfigResult, texts: dict[str, str],
           documents: Mapping[str, Document]) -> list[Ablated]:
    """One row per rule of rag/answer/rules.py, in their order."""
    rows = []
    for rule in RULES.values():
        scored = rescore(settings.model_copy(update={"disabled_rules": [*settings.disabled_rules, rule.name]}), questions, base, texts, documents)
        metrics = summarise(scored)
        rows.append(Ablated(
            rule.name, rule.doc, metrics,
            {m: delta(metrics[m], base.metrics[m]) for m in DELTAS},
            lost=[s.id for s, b in zip(scored, base.scored) if s.failed and not b.failed],
            gained=[s.id for s, b in zip(scored, base.scored) if b.failed and not s.failed],
        ))
    return rows
