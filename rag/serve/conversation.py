"""Follow-up questions made standalone without an LLM: the subject is carried over from earlier turns.

"Где пройдет саммит ШОС?" then "А когда?" → "Когда пройдет саммит ШОС?";
then "Кто об этом заявил?" → "Кто заявил: пройдет саммит ШОС?". A LangChain question-rewriting chain
with the same signature (question, history) → str can replace `resolve` when an LLM is configured.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from rag.answer.extract import Answer
from rag.index.analysis import STOPWORDS, term
from rag.pipeline import RAG

TOKEN = re.compile(r"\w+(?:[-.]\w+)*")
INTERROGATIVES = frozenset(
    "кто кого кому кем ком что чего чему чем где когда куда откуда почему зачем как сколько скольких скока "
    "чей чья чьё чье чьи каков какова каково какой какая какое какие каком какого какую каких каким какими "
    "который которая которое которые котором которого которой которую которых "
    "who whom whose what when where why how which".split()
)
# Interrogatives that take a noun ("в каком городе"): the noun belongs to the question, not to its subject.
ATTRIBUTIVE = frozenset(w for w in INTERROGATIVES if w.startswith(("как", "котор", "чей", "чья", "чьё", "чье", "чьи"))) | {"which", "what"}
# Words that point back to an earlier turn instead of naming the subject.
ANAPHORS = frozenset(
    "это этот эта эти этом этого этой этим этих этими эту тот та те том того той тем тех такой такая такое такие "
    "он она оно они его её ее их ему ей им ими него неё нее них нему ней ним ними нём нем там тогда туда оттуда "
    "тут здесь it this that these those they them their he she his her there then".split()
)
PREPOSITIONS = frozenset("о об обо про в во на с со у от до за из по для при к ко после перед about of in on at for from to with by".split())
LEADING = frozenset("а и ну но ещё еще тоже также and also so what about".split())
SKIP = INTERROGATIVES | ANAPHORS | PREPOSITIONS | LEADING | STOPWORDS
MAX_CONTENT_AFTER_CONJUNCTION = 1  # "А в каком году?" is a follow-up, "А сколько стоит биткоин?" is not
HISTORY_TURNS = 20  # user turns looked back on


def _turns(history: Iterable[Mapping[str, str]]) -> list[str]:
    return [t["content"] for t in history if t.get("role") == "user" and str(t.get("content", "")).strip()]


def _interrogative_phrase(words: list[str]) -> set[int]:
    """Positions of the interrogative phrases: "где", "в каком городе", "сколько"."""
    positions: set[int] = set()
    for i, w in enumerate(words):
        low = w.lower()
        if low in INTERROGATIVES:
            positions.add(i)
            if i and words[i - 1].lower() in PREPOSITIONS:
                positions.add(i - 1)
            if low in ATTRIBUTIVE and i + 1 < len(words) and words[i + 1].lower() not in SKIP:
                positions.add(i + 1)
    return positions


def _content(words: list[str]) -> list[str]:
    """Words that name a subject: not interrogative phrases, pronouns, prepositions or stopwords."""
    phrase = _interrogative_phrase(words)
    return [w for i, w in enumerate(words) if i not in phrase and w.lower() not in SKIP]


def is_follow_up(question: str) -> bool:
    """True when the question points back ("об этом", "он", "там") or names no subject of its own ("А когда?")."""
    words = TOKEN.findall(question)
    if not words:
        return False
    content = _content(words)
    return (
        any(w.lower() in ANAPHORS for w in words)
        or not content
        or (words[0].lower() in LEADING and len(content) <= MAX_CONTENT_AFTER_CONJUNCTION)
    )


def _own_words(question: str) -> list[str]:
    """The question without its leading "а/и" and without the words that point back ("об этом")."""
    words = TOKEN.findall(question)
    while words and words[0].lower() in LEADING:
        words = words[1:]
    kept: list[str] = []
    for i, w in enumerate(words):
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        if w.lower() in ANAPHORS or (w.lower() in PREPOSITIONS and nxt in ANAPHORS):
            continue
        kept.append(w)
    return kept


def subject_words(question: str) -> list[str]:
    """What a question is about: its words without the interrogative phrase ("В каком городе", "Где")."""
    words = TOKEN.findall(question)
    phrase = _interrogative_phrase(words)
    return [w for i, w in enumerate(words) if i not in phrase and w.lower() not in ANAPHORS | LEADING]


def _sentence(words: list[str]) -> str:
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _standalone(question: str, previous: str | None) -> str:
    if previous is None or not is_follow_up(question):
        return question
    own = _own_words(question)
    named = {term(w.lower()) for w in _content(own)}
    subject = [w for w in subject_words(previous) if w.lower() in SKIP or term(w.lower()) not in named]
    if not _content(subject):
        return question
    if named:  # "Кто заявил" + the subject
        return f"{_sentence(own)}: {' '.join(subject)}?"
    return _sentence(own + subject) + "?"  # only an interrogative: it takes the place of the earlier one


def resolve(question: str, history: Iterable[Mapping[str, str]] = ()) -> str:
    """The question as it reads on its own, given earlier turns [{"role": "user"|"assistant", "content"}]."""
    previous = None
    for turn in _turns(history)[-HISTORY_TURNS:]:
        previous = _standalone(turn, previous)
    return _standalone(question, previous)


def understood(rag: RAG, question: str, history: Iterable[Mapping[str, str]] = ()) -> str:
    resolved = resolve(question, history)
    if not question.strip() or len(resolved) > rag.settings.max_question_chars:
        return question  # the pipeline refuses it with the user's own words
    return resolved


def ask(rag: RAG, question: str, history: Iterable[Mapping[str, str]] = ()) -> Answer:
    """Answer a question in its conversation; `Answer.question` is the question as understood."""
    return rag.ask(understood(rag, question, history))


def stream(rag: RAG, question: str, history: Iterable[Mapping[str, str]] = ()) -> Iterator[str | Answer]:
    """As `ask`, with a generator's text pieces first, as they are written (issue 16)."""
    return rag.stream(understood(rag, question, history))
