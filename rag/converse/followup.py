"""Follow-up questions made standalone without an LLM, from the earlier turn's question and its answer.

«Где пройдет саммит ШОС?», then «А когда это было?» → «Когда пройдет саммит ШОС?»;
«Сколько конфликтов было в мире за прошлый год?», then «А кто об этом заявил?» →
«Кто заявил о том, сколько конфликтов было в мире за прошлый год?»;
«Кто генеральный секретарь ОДКБ?», then «Что он сказал?» → «Что генеральный секретарь ОДКБ сказал?».
A question that names its own subject («Кто такой Станислав Зась?») is never merged with an earlier one.
A LangChain question-rewriting chain with the same signature (question, history) → Resolved can replace `resolve`
when an LLM is configured.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.answer.rules import WHEN
from rag.index import analysis
from rag.texts import text

RULES = tomllib.loads((Path(__file__).parent.parent / "data" / "followup.toml").read_text(encoding="utf-8"))


def _words(key: str) -> frozenset[str]:
    return frozenset(RULES[key].split())


TOKEN = re.compile(r"\w+(?:[-.]\w+)*")
INTERROGATIVES = _words("interrogatives")
# Interrogatives that take a noun ("в каком городе"): the noun belongs to the question, not to its subject.
ATTRIBUTIVE = frozenset(w for w in INTERROGATIVES if w.startswith(("как", "котор", "чей", "чья", "чьё", "чье", "чьи"))) | {"which", "what"}
WHAT_IS = _words("what_is")
ENTITY = _words("entity_anaphors")
PLACE = _words("place_anaphors")
TIME = _words("time_anaphors")
STATEMENT = _words("statement_anaphors")
ANAPHORS = ENTITY | PLACE | TIME | STATEMENT
COPULAS = _words("copulas")
PREPOSITIONS = _words("prepositions")
ABOUT = _words("about_prepositions")
POSSESSIVE = frozenset("его её ее их his her their its".split())
LEADING = _words("leading")
SKIP = INTERROGATIVES | ANAPHORS | PREPOSITIONS | LEADING | COPULAS | analysis.STOPWORDS
PLACE_IN_ANSWER = re.compile(r"\b(?:в|во|на)\s+[А-ЯЁ][\w-]+(?:\s+[А-ЯЁ][\w-]+)*")
HISTORY_TURNS = 20  # earlier questions looked back on


@dataclass(frozen=True)
class Resolved:
    """The question as understood, and whether it was rewritten from the conversation."""

    question: str
    rewritten: bool


@dataclass(frozen=True)
class Turn:
    question: str  # standalone
    answer: str | None  # None when the articles had no answer
    topic: str  # the question whose subject carries over: itself, or its topic when it asked about a statement


def _low(word: str) -> str:
    return word.lower().replace("ё", "е")


def interrogative_phrase(words: list[str]) -> set[int]:
    """Positions of the interrogative phrases: "где", "в каком городе", "кто такой"."""
    positions: set[int] = set()
    for i, w in enumerate(words):
        if _low(w) not in INTERROGATIVES:
            continue
        positions.add(i)
        if i and _low(words[i - 1]) in PREPOSITIONS:
            positions.add(i - 1)
        nxt = _low(words[i + 1]) if i + 1 < len(words) else ""
        if nxt in WHAT_IS or (_low(w) in ATTRIBUTIVE and nxt and nxt not in SKIP):
            positions.add(i + 1)
    return positions


def _rest(words: list[str]) -> list[str]:
    """The words outside the interrogative phrase, without a leading "а", "и"."""
    phrase = interrogative_phrase(words)
    rest = [w for i, w in enumerate(words) if i not in phrase]
    while rest and _low(rest[0]) in LEADING:
        rest = rest[1:]
    return rest


def _is(word: str, *grammemes: str) -> bool:
    return word.isupper() and len(word) > 1 and "NOUN" in grammemes or any(g in analysis.tag(_low(word)) for g in grammemes)


def depends_on_conversation(question: str) -> bool:
    """True when the question points back («об этом», «он», «там»), names nothing of its own («А когда?»),
    is a bare «а …?» («А в каком году?») or has a verb without a subject («Что сказал?»).

    >>> depends_on_conversation("А когда это было?"), depends_on_conversation("Кто такой Станислав Зась?")
    (True, False)
    """
    words = TOKEN.findall(question)
    if not words:
        return False
    rest = _rest(words)
    content = [w for w in rest if _low(w) not in SKIP]
    if any(_low(w) in ANAPHORS for w in rest) or not content:
        return True
    if _low(words[0]) in LEADING and len(content) <= 1 and not any(w[:1].isupper() for w in content):
        return True
    has_subject = any(_is(w, "NOUN", "NPRO", "Name", "Surn") or w[:1].isupper() or w.isdigit() for w in content)
    return not has_subject and any(_is(w, "VERB", "INFN") for w in content)


def _sentence(words: list[str]) -> str:
    joined = " ".join(words).replace(" ,", ",")
    return joined[:1].upper() + joined[1:] + "?"


def subject_phrase(question: str) -> list[str]:
    """The noun phrase an earlier question is about: "Где пройдет саммит ШОС?" → [саммит, ШОС]."""
    return [w for w in _rest(TOKEN.findall(question)) if not _is(w, "VERB", "INFN", "ADVB", "PRED") and _low(w) not in COPULAS | ANAPHORS]


def person_in(answer: str) -> list[str]:
    """The first person named in an answer: capitalised words after a sentence's first (capitalised anyway), one
    of them a name or surname; a short answer's (a speaker: «Токаев», «министр Иван Петров») from its first word,
    and a lone word there is the person even when the dictionary knows it, unless it is a place."""
    short = len(answer) <= SHORT_ANSWER and not re.search(r"[.!?](?:\s|$)", answer.strip())  # a phrase, no sentence
    run: list[str] = []
    for w in TOKEN.findall(answer)[0 if short else 1 :] + [""]:
        if w[:1].isupper() and not w.isupper():
            run.append(w)
            continue
        while run and analysis.is_dictionary_word(_low(run[0])) and not analysis.tagged(run[0], "Name", "Surn", "Patr") and (
                not short or len(run) > 1 or analysis.tagged(run[0], "Geox")):
            run = run[1:]  # «Казахстана Касым-Жомарт Токаев»: the country is not the person
        if run:
            return run
        run = []
    return []


def _inflected(phrase: list[str], case: str | None) -> list[str]:
    """The phrase in the pronoun's case: its words up to and including the first noun change, the rest (ШОС,
    "генерального секретаря ОДКБ"'s ОДКБ) stay."""
    if not case or case == "nomn":
        return phrase
    out, done = [], False
    for w in phrase:
        out.append(w if done or w.isupper() else analysis.inflect(w, case))
        done = done or _is(w, "NOUN") or w[:1].isupper()
    return out


def _entity(previous: Turn) -> list[str]:
    """What "он", "она", "его" stand for: the role asked about («Кто генеральный секретарь ОДКБ?»), the person
    a "who" question was answered with, or else the earlier question's subject."""
    words = TOKEN.findall(previous.question)
    asks_who = any(_low(w) in {"кто", "who"} for w in words)
    subject = subject_phrase(previous.question)
    if asks_who and not any(_is(w, "VERB") for w in _rest(words)) and subject:
        return subject
    if asks_who and previous.answer and (person := person_in(previous.answer)):
        return person
    return subject


REPORTED = re.compile(r"\b(?:что|that)\s+(?P<said>.+)$", re.I)
STATEMENT_WORDS = 20
SHORT_ANSWER = 80  # characters: a phrase cut from a sentence (rag/answer/phrase.py), not the sentence
DATELINE = re.compile(r"^[А-ЯЁA-Z][А-ЯЁA-Z -]+,\s*\d{1,2}\s+\w+\.?\s*[-–—]\s*[^.]{1,40}\.\s+")  # «БИШКЕК, 3 апр — Sputnik.»


def statement(answer: str) -> str:
    """What an answer states, as a clause after «что»: the reported part of «…сообщил, что идет подготовка к
    саммиту ШОС, которому…» up to its first comma, or the answer's first clause; "" for a phrase without a verb
    (a short answer: «Кто об этом заявил?» then asks about the earlier question)."""
    sentence = re.split(r"(?<=[.!?])\s", DATELINE.sub("", answer.strip()), maxsplit=1)[0].strip(" .!?\"«»“”—-")
    if m := REPORTED.search(sentence):
        sentence = m["said"]
    clause = re.split(r",\s", sentence, maxsplit=1)[0]
    words = clause.split()[:STATEMENT_WORDS]
    if len(TOKEN.findall(clause)) < 2:  # «…», a bare name: nothing stated to ask about
        return ""
    if not analysis.tagged(clause, "VERB", "PRTS", "PRED"):  # a short answer («в Астане», «9 августа») states nothing
        return ""
    first = words[0]
    return " ".join([first if first.isupper() or analysis.tagged(first, "Name", "Surn", "Geox", "Orgn") else first.lower(), *words[1:]])


def answered(question: str, answer: str) -> str:
    """A short answer stated with the question it answers: answered("Где пройдет саммит?", "в Астане") ==
    "пройдет саммит в Астане" (what «Кто об этом заявил?» then asks about)."""
    rest = _rest(TOKEN.findall(question))
    return " ".join([*rest, *TOKEN.findall(answer)]) if rest and len(answer) <= SHORT_ANSWER else ""


def _place(previous: Turn) -> list[str]:
    m = PLACE_IN_ANSWER.search(previous.answer or "")
    return m.group(0).split() if m else []


def _time(previous: Turn) -> list[str]:
    m = re.search(WHEN, previous.answer or "", re.I)
    return m.group(0).split() if m else []


def _standalone(question: str, previous: Turn) -> tuple[list[str] | None, bool]:
    """The standalone question's words, and whether it asked about the earlier statement (the topic stays)."""
    words = TOKEN.findall(question)
    while words and _low(words[0]) in LEADING:
        words = words[1:]
    phrase = interrogative_phrase(words)
    rest = [w for i, w in enumerate(words) if i not in phrase]
    asked = [w for i, w in enumerate(words) if i in phrase]
    if all(_low(w) in STATEMENT | COPULAS | PREPOSITIONS for w in rest):  # «А когда?», «А когда это было?»
        earlier = _rest(TOKEN.findall(previous.topic))
        return (asked + earlier if earlier else None), False
    out: list[str] = []
    changed, skip = False, -1
    for i, w in enumerate(words):
        low, nxt = _low(w), _low(words[i + 1]) if i + 1 < len(words) else ""
        if i == skip:
            continue
        if low in POSSESSIVE and nxt and _is(nxt, "NOUN"):  # «его создание» → «создание регионального хаба ООН»
            out.extend([words[i + 1], *_inflected(_entity(previous), "gent")])
            changed, skip = True, i + 1
            continue
        if low in PREPOSITIONS and nxt in STATEMENT | PLACE | TIME:
            continue  # "об этом", "о нём" are replaced as a whole below
        if low in STATEMENT:  # «Кто об этом заявил?» → «Кто заявил, что идет подготовка к саммиту ШОС?»
            verb = [x for x in words[i + 1:] if _low(x) not in ANAPHORS]
            prep = _low(words[i - 1]) if i else ""
            if prep in PREPOSITIONS and prep not in ABOUT and not (nxt and _is(nxt, "NOUN")):  # «Что при этом проверить?» → «Что проверить, как обновить …?»
                tail = previous.topic.rstrip(" ?")
                return [*out, *verb, ",", tail[:1].lower() + tail[1:]], True
            if previous.answer and (said := statement(previous.answer) or answered(previous.topic, previous.answer)):
                return [*out, *verb, ",", "that" if _low(w) in {"this", "that"} else "что", said], True
            tail = previous.topic.rstrip(" ?")
            return [*out, *verb, "о", "том", ",", tail[:1].lower() + tail[1:]], True
        replacement = None
        if low in ENTITY:
            prep = _low(words[i - 1]) if i and _low(words[i - 1]) in PREPOSITIONS else None
            replacement = _inflected(_entity(previous), analysis.tag(low).case or ("loct" if prep else None))
        elif low in PLACE:
            replacement = _place(previous)
        elif low in TIME:
            replacement = _time(previous)
        if replacement:
            out.extend(replacement)
            changed = True
        elif low not in ANAPHORS:
            out.append(w)
    if changed:
        return out, False
    # A verb without a subject («А что сказал?»): the earlier subject is it.
    entity = _entity(previous)
    verbs = [i for i, w in enumerate(out) if _is(w, "VERB")]
    return (out[: verbs[0] + 1] + entity + out[verbs[0] + 1:] if verbs and entity else None), False


def _turns(history: Iterable[Mapping[str, str]]) -> list[tuple[str, str | None]]:
    """(question, answer) pairs from [{"role": "user"|"assistant", "content"}]; an abstention is no answer."""
    pairs: list[tuple[str, str | None]] = []
    for t in history:
        content = str(t.get("content", "")).strip()
        if t.get("role") == "user" and content:
            pairs.append((content, None))
        elif t.get("role") == "assistant" and pairs and pairs[-1][1] is None and content != text("abstain"):
            pairs[-1] = (pairs[-1][0], content or None)
    return pairs[-HISTORY_TURNS:]


def _resolve_one(question: str, previous: Turn | None) -> tuple[Resolved, bool]:
    if previous is None or not depends_on_conversation(question):
        return Resolved(question, False), False
    words, same_topic = _standalone(question, previous)
    return (Resolved(_sentence(words), True), same_topic) if words else (Resolved(question, False), False)


def resolve(question: str, history: Iterable[Mapping[str, str]] = ()) -> Resolved:
    """The question as it reads on its own, given the earlier turns (oldest first)."""
    previous = None
    for asked, answer in _turns(history):
        resolved, same_topic = _resolve_one(asked, previous)
        topic = previous.topic if same_topic and previous else resolved.question
        if answer is None and previous is not None:
            # An abstention states nothing: «об этом», «там» after it still point at the last answer given.
            answer = previous.answer
        previous = Turn(resolved.question, answer, topic)
    return _resolve_one(" ".join(question.split()), previous)[0]
