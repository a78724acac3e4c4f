"""Question analysis: the kind of answer a question wants (from its interrogative phrase, not from keywords
anywhere) and the details it names, which the evidence must match: entities, numbers, years, ordinals, a role."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from rag.answer import numerals
from rag.index import analysis

QUESTION_FILE = Path(__file__).resolve().parent.parent / "data" / "question.toml"
CYRILLIC = re.compile(r"[а-яё]", re.I)
FACTOID = frozenset({"person", "organisation", "media", "place", "date", "number"})
# Acronyms, capitalised words, quoted names: what a question names rather than asks.
ACRONYM = re.compile(r"\b[A-ZА-ЯЁ]{2,}\b")
CAPITALISED = re.compile(r"(?<![\w-])[A-ZА-ЯЁ][a-zа-яё]+(?:-[A-ZА-ЯЁ]?[a-zа-яё]+)*")
QUOTED = re.compile(r"[«“„\"]([^»”“\"]{2,})[»”“\"]")
WHO_IS = re.compile(r"^\s*(кто (?:такой |такая |такие )?|who is |who's )(?P<phrase>[^?]+)\??\s*$", re.I)
ENGLISH_WORDS = frozenset("what who whom whose when where which why how is are was were does do did will can could the a an "
                          "i in on of for and or to about with by from at as".split())


@dataclass(frozen=True)
class Question:
    """What `analyse` found in a question; shown by `rag ask --explain`."""

    text: str
    kind: str  # person, organisation, media, place, date, number, list, definition, reason, how, statement, yesno
    phrase: str  # the interrogative phrase that decided the kind ("" when none: a statement is assumed)
    english: bool
    focus: str | None = None  # the noun asked about, as a lemma: "страна" in «Сколько стран…»
    entities: tuple[str, ...] = ()  # named entities, as written: "Ташкенте", "ОДКБ", "Tokayev"
    numbers: tuple[str, ...] = ()  # digit tokens that are not years
    years: tuple[str, ...] = ()
    ordinals: tuple[int, ...] = ()  # values: «6-я» and «шестая» are both 6
    role: frozenset[str] | None = None  # «Кто генеральный секретарь ОДКБ?»: these terms must stand together
    wants_year: bool = False  # «В каком году…»: a date must show a year
    wants_period: bool = False  # «За какой период…», «на какой срок…»: a span of time («за три десятилетия») answers
    names_asked: bool = False  # «Кто…» wants a name; «Кого принял…» may be answered by a group
    about_speech: bool = False  # «Кто заявил…»: the speaker of a quote answers
    describes: str | None = None  # «Кто такой Станислав Зась?»: the person to describe (with their role)
    notes: list[str] = field(default_factory=list, compare=False)

    @property
    def factoid(self) -> bool:
        return self.kind in FACTOID


@cache
def patterns() -> dict:
    data = tomllib.loads(QUESTION_FILE.read_text(encoding="utf-8"))
    compiled = {lang: [(kind, re.compile(rf"(?<!\w){p}(?!\w)", re.I)) for kind, ps in data[lang].items() for p in ps]
                for lang in ("russian", "english")}
    return {**compiled, "nouns": {lemma: kind for kind, lemmas in data["nouns"].items() for lemma in lemmas},
            "speech": frozenset(data["speech"]), "names_asked": re.compile(rf"^({'|'.join(data['names_asked'])})$", re.I)}


def speech_verb(word: str) -> bool:
    """A form of a verb of saying: speech_verb("заявил") is True."""
    return analysis.lemma(word.lower()) in patterns()["speech"] or word.lower().rstrip("sd") in patterns()["speech"]


def main_clause(question: str) -> str:
    """The question up to its first comma: «Что сказал Токаев, когда выступал…» asks «Что сказал Токаев»."""
    head = question.split(",", 1)[0]
    return head if len(head.split()) >= 2 or "," not in question else question


def interrogative(question: str, english: bool) -> tuple[str, str]:
    """(kind, phrase) of the earliest interrogative phrase of the main clause, the longest on a tie:
    interrogative("В каком году прошла встреча?", False) == ("date", "В каком году")."""
    clause = main_clause(question)
    found = []
    for kind, pattern in patterns()["english" if english else "russian"]:
        if m := pattern.search(clause):
            found.append((m.start(), -len(m.group(0)), kind, m.group(0)))
    if not found:
        return "statement", ""
    _, _, kind, phrase = min(found)
    return kind, phrase


def which_kind(question: str, phrase: str) -> tuple[str, str | None]:
    """«Какая страна…» asks for a place, «Какие страны…» for a list, «Какой теракт…» for a statement: the kind
    follows the first noun after «какой». Returns (kind, the noun's lemma)."""
    after = question.lower().split(phrase.lower(), 1)[-1]
    for word in analysis.words(after)[:3]:
        tag = analysis.tag(word)
        if "NOUN" not in tag:
            continue
        noun = analysis.lemma(word)
        kind = patterns()["nouns"].get(noun, "statement")
        if phrase.lower() in ("какие", "каких", "какими") and kind != "date":
            return "list", noun
        return kind, noun
    return "statement", None


def counted_noun(question: str, phrase: str) -> str | None:
    """The noun «сколько» counts, as a lemma: counted_noun("Сколько стран вошло?", "Сколько") == "страна"."""
    after = question.lower().split(phrase.lower(), 1)[-1]
    for word in analysis.words(after)[:3]:
        if "NOUN" in analysis.tag(word):
            return analysis.lemma(word)
    return None


def entities(question: str, english: bool) -> tuple[str, ...]:
    """Names the question mentions: acronyms, quoted names and capitalised words that are not its first word
    (nor an English function word): entities("Где прошла встреча в Ташкенте?", False) == ("Ташкенте",)."""
    words = question.split()
    first = words[0] if words else ""
    found = ACRONYM.findall(question) + QUOTED.findall(question)
    for m in CAPITALISED.finditer(question):
        w = m.group(0)
        if m.start() == 0 or (w == first and question.startswith(w)) or w.lower() in ENGLISH_WORDS:
            continue
        if not english and not CYRILLIC.search(w):
            continue  # a Latin brand in a Russian question («Sputnik») is written the same in the articles: kept
        neighbours = question[max(0, m.start() - 2) : m.start()].strip() + question[m.end() : m.end() + 2].strip()
        if not english and common_word(w) and not any(c.isupper() for c in neighbours):
            continue  # «населения Земли», «Совета»: a capitalised common noun names nothing the article must repeat
        found.append(w)
    if not english:  # a lowercase question («какое отчество у политолога мирмановой»): names by their grammemes
        found += [w for w in re.findall(r"(?<![\w-])[а-яё]{3,}", question) if w not in analysis.STOPWORDS and (
            {"Surn", "Name", "Geox"} & set(str(analysis.tag(w)).replace(" ", ",").split(","))
            or not analysis.is_dictionary_word(w) and analysis.SURNAME.match(w))]
    return tuple(dict.fromkeys(found))


def described(question: str) -> str | None:
    """The name in «Кто такой X?» / "Who is X?" when X is a name: described("Кто такой Станислав Зась?") == "Станислав Зась"."""
    m = WHO_IS.match(question)
    if m and all(w[:1].isupper() for w in m["phrase"].split()):
        return m["phrase"].strip()
    return None


NAME_GRAMMEMES = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr"})


def common_word(word: str) -> bool:
    """A dictionary noun whose likeliest reading is no name (alone: «Ван И» is a name whatever «ван» means): common_word("Земли") is True, common_word("Ташкенте")
    and common_word("Токаев") (a surname's shape) are False."""
    low = word.lower()
    grammemes = set(str(analysis.tag(low)).replace(" ", ",").split(","))
    return (analysis.is_dictionary_word(low) and "NOUN" in grammemes and not NAME_GRAMMEMES & grammemes
            and not analysis.SURNAME.match(low))


def role(question: str) -> frozenset[str] | None:
    """«Кто (такой) генеральный секретарь ОДКБ?» → the role's terms; a question with a verb is not a role question."""
    m = WHO_IS.match(question) if CYRILLIC.search(question) else None
    if m and all(w[:1].isupper() for w in m["phrase"].split()):
        return None  # «Кто такой Станислав Зась?» asks who a named person is, not who holds a role
    if m and not analysis.tagged(m["phrase"], "VERB", "INFN"):
        return frozenset(analysis.terms(m["phrase"]))
    return held_role(question)


COPULAS = frozenset({"быть", "являться", "стать", "становиться", "работать", "служить", "занимать"})
PREPOSITION_TAGS = ("PREP", "CONJ", "VERB", "INFN", "PRTF", "GRND")


def held_role(question: str) -> frozenset[str] | None:
    """«Кто был президентом Кыргызстана на сессии?» → the terms of «президентом Кыргызстана»: the words after «кто»
    and a copula, up to a preposition or verb, when they hold a person noun (not «Кто принял секретарей…»)."""
    words = analysis.words(main_clause(question))
    if not words or words[0] != "кто":
        return None
    rest = words[1:]
    while rest and analysis.lemma(rest[0]) in COPULAS:
        rest = rest[1:]
    phrase = []
    for w in rest:
        if any(t in analysis.tag(w) for t in PREPOSITION_TAGS) or analysis.lemma(w) in COPULAS:
            break
        phrase.append(w)
    # A person noun: an animate common noun («мэром», «генсеком»), or one the data file lists («глава»).
    if not any(patterns()["nouns"].get(analysis.lemma(w)) == "person" or {"NOUN", "anim"} <= set(
            str(analysis.tag(w)).replace(" ", ",").split(",")) and not {"Name", "Surn", "Patr"} & set(
            str(analysis.tag(w)).replace(" ", ",").split(",")) for w in phrase):
        return None
    return frozenset(analysis.terms(" ".join(phrase))) or None


@lru_cache(maxsize=1024)
def analyse(question: str) -> Question:
    """The kind of answer wanted and the details named:
    analyse("Что сказал Токаев, когда выступал в Астане?").kind == "statement" (the «когда» is subordinate)."""
    english = not CYRILLIC.search(question)
    kind, phrase = interrogative(question, english)
    focus = None
    if kind == "which":
        kind, focus = which_kind(question, phrase)
    elif kind == "number" and not english:
        focus = counted_noun(question, phrase)
    years = tuple(numerals.years(question))
    numbers = tuple(n for n in numerals.numbers(question) if n not in years)
    return Question(
        text=question,
        kind=kind,
        phrase=phrase,
        english=english,
        focus=focus,
        entities=entities(question, english),
        numbers=numbers,
        years=years,
        ordinals=tuple(sorted(numerals.ordinals(question))),
        role=role(question) if kind == "person" else None,
        names_asked=kind == "person" and bool(patterns()["names_asked"].match(phrase.strip())),
        about_speech=any(speech_verb(w) for w in analysis.words(main_clause(question))),
        describes=described(question) if kind == "person" else None,
        wants_year=bool(re.search(r"\b(год[ау]?|year)\b", phrase, re.I)),
        wants_period=bool(re.search(r"(период|срок|время|period|long)", phrase, re.I)),
    )
