"""What a citation says about its document (title, date, outlet, section heading), and questions about a
document itself («Когда вышла статья Tengrinews о беженцах?») answered from its metadata."""
from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from functools import cache, lru_cache

from rag.answer.extract import Answer, Citation
from rag.answer.rules import article_terms
from rag.config import DATA_DIR
from rag.index import analysis
from rag.ingest.corpus import Document
from rag.retrieve.retriever import Evidence
from rag.texts import text, texts

RULES_FILE = DATA_DIR / "metadata.toml"
PREFIX = 5  # a lemma and a stem of one word agree on their first letters («беженец» / «беженц»)
FIELDS = ("date", "outlet", "title", "author")


@cache
def _rules() -> dict:
    return tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))


@cache
def _questions() -> dict[str, list[re.Pattern]]:
    return {f: [re.compile(p, re.IGNORECASE) for p in _rules()["questions"][f]] for f in FIELDS}


@cache
def _document_terms() -> frozenset[str]:
    return frozenset(t for w in _rules()["document_words"] for t in analysis.terms(w))


def human_date(iso: str | None, inferred: bool = False) -> str:
    """An ISO date as people write it: «3 апреля 2024», said so when the year was inferred.

    >>> human_date("2024-04-03")
    '3 апреля 2024'
    """
    if not iso or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        return iso or ""
    year, month, day = (int(x) for x in iso.split("-"))
    written = f"{day} {texts()['months_genitive'][month - 1]} {year}"
    return text("date_year_inferred", date=written) if inferred else written


def cite(answer: Answer, documents: dict[str, Document]) -> Answer:
    """The answer with each citation saying its document's title, date, outlet and section heading."""
    def described(c: Citation) -> Citation:
        doc = documents.get(c.source)
        if doc is None:
            return c
        return replace(c, title=doc.title, date=doc.date, outlet=doc.outlet, heading=doc.section(c.start))

    answer.citations = [described(c) for c in answer.citations]
    return answer


def asked_field(question: str) -> tuple[str, str] | None:
    """Which of a document's own facts a question asks for (its date, outlet, title or author), and the rest
    of the question (what the document is about), if it asks for one.

    >>> asked_field("Когда вышла статья о дождях в Москве?")
    ('date', ' статья о дождях в Москве?')
    >>> asked_field("Когда пройдёт саммит?") is None
    True
    """
    for name, patterns in _questions().items():
        for p in patterns:
            if m := p.search(question):
                return name, question[: m.start()] + question[m.end() :]
    return None


def _names_outlet(question: str, outlet: str | None) -> bool:
    """Whether the question names this outlet («Tengrinews» for «Tengrinews.kz»)."""
    if not outlet:
        return False
    stem = re.split(r"[.\s]", outlet.lower())[0]
    return len(stem) >= 3 and stem in question.lower()


def topic_terms(rest: str, outlets: set[str]) -> frozenset[str]:
    """The terms of what a document is said to be about: the question without the words that name a
    document («статья», «издание») or an outlet.

    >>> sorted(topic_terms(" статья Example о беженцах?", {"Example.kz"}))
    ['беженец']
    """
    named = {t for o in outlets for t in analysis.terms(re.split(r"[.\s]", o)[0])}
    return frozenset(analysis.terms(rest)) - _document_terms() - named


@lru_cache(maxsize=256)
def _prefixes(document: str) -> frozenset[str]:
    return frozenset(t[:PREFIX] for t in article_terms(document))


def holds_topic(topic: frozenset[str], document: str) -> bool:
    """Every topic term occurs in the document, compared by their first letters (a word's lemma and its
    stem can differ at the end).

    >>> holds_topic(frozenset({"беженец"}), "Речь шла о размещении беженцев.")
    True
    """
    return bool(topic) and {t[:PREFIX] for t in topic} <= _prefixes(document)


def about_document(question: str, evidence: list[Evidence], documents: dict[str, Document]) -> Answer | None:
    """A question about a document's date, outlet, title or author, answered from the metadata of the document
    it is about: the best-ranked evidence's document that holds every word of the topic the question gives
    («о беженцах»), among the documents of the outlet the question names if it names one. None when the
    question asks about something else or no document fits (then it is answered as any other question).

    The citation quotes the document's title where the text has it, else its first paragraph."""
    asked = asked_field(question)
    if asked is None:
        return None
    field_name, rest = asked
    outlets = {d.outlet for d in documents.values() if d.outlet and _names_outlet(question, d.outlet)}
    topic = topic_terms(rest, outlets)
    for e in evidence:
        doc = documents[e.source]
        if (outlets and doc.outlet not in outlets) or not holds_topic(topic, doc.text):
            continue
        value = getattr(doc, field_name)
        if not value:
            return None
        start = doc.text.find(doc.title) if doc.title else -1
        start, end = (start, start + len(doc.title)) if start >= 0 else doc.paragraphs[0]
        shown = human_date(value, doc.date_inferred) if field_name == "date" else value
        reply = text(f"about_{field_name}", **{"title": doc.title, field_name: shown})
        return Answer(question, reply, False, [Citation(doc.source, doc.text[start:end], start, end, round(e.score, 4))])
    return None
