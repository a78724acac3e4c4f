"""Eval metrics as pure functions: key facts, token F1, retrieval recall/MRR, citations, abstention, latency."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import fmean

import numpy as np

from rag.answer.extract import tidy
from rag.evals.dataset import Question, normalise

WORD = re.compile(r"\w+")
RANK_DEPTHS = (1, 3, 5)


def keys_matched(answer: str, keys: Sequence[Sequence[str]]) -> bool:
    """Every key group has at least one alternative in the answer (both normalised)."""
    answer = normalise(answer)
    return all(any(normalise(k) in answer for k in group) for group in keys)


def tokens(text: str) -> list[str]:
    return WORD.findall(normalise(text))


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall (bag of words, as in SQuAD)."""
    pred, ref = Counter(tokens(prediction)), Counter(tokens(reference))
    common = sum((pred & ref).values())
    if not common:
        return 0.0
    precision, recall = common / sum(pred.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def ranked_files(sources: Iterable[str]) -> list[str]:
    """The files of ranked chunks, each once at its best rank."""
    return list(dict.fromkeys(sources))


def gold_rank(ranked: Sequence[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first gold file, or None when none was retrieved."""
    gold = set(gold)
    return next((i for i, source in enumerate(ranked, 1) if source in gold), None)


def recall_at(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def quote_verified(citation: dict, texts: dict[str, str]) -> bool:
    """The quote is non-empty and is exactly the cited file's cleaned text at [start, end)."""
    text = texts.get(citation["source"])
    return text is not None and bool(citation["quote"]) and text[citation["start"] : citation["end"]] == citation["quote"]


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return fmean(values) if values else None


FACTOID = frozenset({"person", "organisation", "place", "date", "number"})


@dataclass(frozen=True)
class Scored:
    """One question's outcome in one configuration."""

    id: str
    answerable: bool
    abstained: bool
    rank: int | None  # of the first gold file among the retrieved files; None when not retrieved
    keys_ok: bool
    f1: float
    top_citation_ok: bool
    gold_citations: int
    citations: int
    latency_ms: float
    factoid: bool = False  # a person, organisation, place, date or number question: a few words answer it
    answer_chars: int = 0
    short: bool = False  # answered with a phrase, not the whole sentence its first citation quotes
    bad_quotes: list[dict] = field(default_factory=list)  # citations whose quote is not at its span
    # Generated answers (issue 16): None for an extractive configuration.
    generated: int | None = None  # sentences the model wrote (refusals aside)
    unsupported: int | None = None  # of them, removed by the verifier
    fell_back: bool = False  # the extractive answer shown instead (endpoint failure, nothing supported, wrong kind)

    @property
    def failed(self) -> bool:
        wrong = not self.keys_ok if self.answerable else not self.abstained
        return wrong or bool(self.bad_quotes)


def score(q: Question, prediction: dict, ranked: Sequence[str], texts: dict[str, str]) -> Scored:
    """Score one `rag ask --json` answer; an abstention scores 0 on an answerable question."""
    answered = q.answerable and not prediction["abstained"]
    citations = prediction["citations"]
    return Scored(
        id=q.id,
        answerable=q.answerable,
        abstained=prediction["abstained"],
        rank=gold_rank(ranked, q.sources),
        keys_ok=answered and keys_matched(prediction["answer"], q.keys),
        f1=token_f1(prediction["answer"], q.answer) if answered else 0.0,
        top_citation_ok=answered and bool(citations) and citations[0]["source"] in q.sources,
        gold_citations=sum(c["source"] in q.sources for c in citations),
        citations=len(citations),
        latency_ms=prediction["timings_ms"]["total"],
        factoid=q.type in FACTOID,
        answer_chars=len(prediction["answer"]),
        short=not prediction["abstained"] and bool(citations) and prediction["answer"] != tidy(citations[0]["quote"]),
        bad_quotes=[c for c in citations if not quote_verified(c, texts)],
        **generation(prediction),
    )


def generation(prediction: dict) -> dict:
    """The verifier's work on one answer of the llm configuration (issue 16); nothing for the others. An answer
    the model was not asked for (an abstention, a document's metadata) counts as no generated sentence."""
    if "mode" not in prediction:
        return {}
    sentences = prediction.get("sentences") or []
    return {
        "generated": len(sentences),
        "unsupported": sum(not s["supported"] for s in sentences),
        "fell_back": prediction["mode"] != "llm" and prediction.get("notice") is not None and not prediction["abstained"],
    }


def summarise(scored: Sequence[Scored]) -> dict[str, float | int | None]:
    """The report's metrics for one configuration; None where a metric has no questions to measure."""
    answerable = [s for s in scored if s.answerable]
    unanswerable = [s for s in scored if not s.answerable]
    abstained = [s for s in scored if s.abstained]
    cited = sum(s.citations for s in answerable)
    latencies = [s.latency_ms for s in scored]
    return {
        "questions": len(scored),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        **{f"recall_at_{k}": mean(recall_at(s.rank, k) for s in answerable) for k in RANK_DEPTHS},
        "mrr": mean(reciprocal_rank(s.rank) for s in answerable),
        "key_fact_accuracy": mean(s.keys_ok for s in answerable),
        "token_f1": mean(s.f1 for s in answerable),
        "top_citation_correct": mean(s.top_citation_ok for s in answerable),
        "gold_citation_share": sum(s.gold_citations for s in answerable) / cited if cited else None,
        "quotes_checked": sum(s.citations for s in scored),
        "quotes_unverified": sum(len(s.bad_quotes) for s in scored),
        "abstention_precision": sum(not s.answerable for s in abstained) / len(abstained) if abstained else None,
        "abstention_recall": mean(s.abstained for s in unanswerable),
        "false_abstentions": sum(s.abstained for s in answerable),
        "answered_unanswerable": sum(not s.abstained for s in unanswerable),
        # How long the answers to factoid questions are: the goal is a phrase, not the sentence (issue 13).
        "factoid_answer_chars_p50": percentile([s.answer_chars for s in answerable if s.factoid and not s.abstained], 50),
        "short_answers": sum(s.short for s in answerable),
        **generation_summary(scored),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def generation_summary(scored: Sequence[Scored]) -> dict[str, float | int | None]:
    """Sentences generated, the share the verifier removed, and fallbacks (issue 16); None without an LLM."""
    llm = [s for s in scored if s.generated is not None]
    generated = sum(s.generated for s in llm)
    removed = sum(s.unsupported for s in llm)
    return {
        "generated_sentences": generated if llm else None,
        "unsupported_removed": removed if llm else None,
        "unsupported_rate": removed / generated if generated else None,
        "llm_fallbacks": sum(s.fell_back for s in llm) if llm else None,
    }
