"""What a question demands of its evidence (the kind of answer, the numbers, ordinals, acronyms and names it
names), worked out once per question: the input of every rule of rules.py and phrase.py."""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer import numerals
from rag.answer.names import CYRILLIC, QUOTED, place_adjectives, question_names, skeleton
from rag.answer.people import english_titles
from rag.config import Settings
from rag.index import analysis

ACRONYM = re.compile(r"\b[A-ZА-ЯЁ]{2,}\b")
# Organisations in Russian news are named in quotes or by an acronym: «Контртеррористический комитет», ОДКБ.
WHICH_ORGANISATION = re.compile(
    r"\b(как(ой|ая|ое|ую|ие|их|ом|ого|ому)|which|what)\s+(\w+\s+)?"
    r"(организаци|структур|компани|парти[юия]|агентств|ведомств|издани|фонд[аеу]?\b|банк[аеу]?\b|organi[sz]ation|company|agency)",
    re.I,
)
# «Кто является председателем комитета?», «Кто занимал пост генсека?»: the copula is no verb of the question's own,
# the title after it is the role; «Как зовут президента…?» asks for the person in the role too.
WHO_IS = re.compile(r"^\s*(как (?:зовут|звали) |кто (?:такой |такая |такие |(?:является|являлся|являлась|был|была|будет|стал|станет|"
                    r"занима(?:ет|л|ла) (?:пост|должность)) )?|who is |who's )(?P<phrase>[^?]+)\??\s*$", re.I)
# The role ends where the question's circumstances begin: «…секретаря ШОС во время встречи…», «…ОДКБ на сессии…».
ROLE_ENDS = re.compile(r",|\s(?:во время|в ходе|на|в|во|при|после|до|с|со|по|за|когда)\s", re.I)
# What kind of answer a question asks for: the name of the rule that holds its evidence to that kind.
ASKS = {
    "year_for_what_year": re.compile(r"\b(в каком году|какого года|за какой год|(?:в|за) какие годы|какими годами|what year|which year|"
                                    r"which years)\b", re.I),
    "digits_for_a_period": re.compile(r"\b(на какие годы|на какой (срок|период)|на сколько лет|for which years|for what period)\b", re.I),
    "day_for_what_date": re.compile(r"\b(какого числа|what date)\b", re.I),
    "time_for_when": re.compile(r"\b(когда|when)\b", re.I),
    "person_for_who": re.compile(r"\b(кто|кого|кому|как (?:зовут|звали)|who|whom)\b", re.I),
    "name_for_which_organisation": WHICH_ORGANISATION,
    "number_for_how_many": numerals.HOW_MANY,
    "measure_for_what_size": re.compile(rf"\b(?:как(?:ой|ого|ая|ую)|каков[аоы]?) {numerals.MEASURE}", re.I),
    "reason_for_why": re.compile(r"\b(почему|зачем|для чего|с какой целью|по какой причине|отчего|why|for what reason)\b", re.I),
    "place_for_which_place": re.compile(r"\bкак(?:ая|ой|ую|ое|ие|их|ом|ого)\s+(?:\w+\s+)?(?:стран|город|столиц|государств)\w*\b|"
                                       r"\b(?:which|what)\s+(?:country|city|capital)\b", re.I),
}


# «Кого в Debian называют поручителем?», «Кто называется сопровождающим?» ask what the word means (a definition:
# «поручитель — человек, который…»), not for a person's name.
CALLED_WHO = re.compile(r"^\W*(?:кого|кто)\b(?:\s+\S+){0,3}?\s+(?:называ\w*|зов[её]т\w*)\b", re.I)


# A clause after a comma that a question word opens («…, когда выступал в Минске») is subordinate when an earlier
# clause asks already («Что сказал Петров, …»): it narrows the question, its question word is not what is asked.
QUESTION_WORD = re.compile(r"\b(что|чем|чего|чему|как\w*|почему|зачем|ли|кто|кого|кому|где|куда|откуда|когда|скольк(?:о|их|им|ими)|"
                           r"чей|чья|чьё|чьи|what|how|why|who|whom|whose|where|when|which)\b", re.I)


def main_clause(question: str) -> str:
    """The question without its subordinate clauses: main_clause("Что сказал Петров, когда выступал в Минске?") ==
    "Что сказал Петров"; in «Скажите, когда пройдет саммит?» nothing asks before «когда», so it is the question."""
    parts = question.split(",")
    kept = [parts[0]]
    for part in parts[1:]:
        if not (QUESTION_WORD.match(part.strip()) and any(QUESTION_WORD.search(k) for k in kept)):
            kept.append(part)
    return ",".join(kept)


@dataclass(frozen=True)
class Asked:
    """What a question demands of its evidence, worked out once per question, not once per sentence."""

    question: str
    kinds: frozenset[str]  # names of the ASKS rules whose question pattern matches the main clause
    leads: frozenset[str]  # those whose pattern opens the question («Когда…», not «Что сказал, когда…»): short answers
    numbers: list[str]  # number tokens: must occur in the article as whole numbers
    ordinals: frozenset[int]  # ordinal values («6-я», «шестая», "sixth"): must occur in the article by value
    role: frozenset[str] | None  # "Кто генеральный секретарь ОДКБ?": these words must stand together
    distinctive: frozenset[str]  # terms of the question's acronyms: must occur in the article
    names: tuple[str, ...]  # names the question mentions (people, places, brands): each must occur in the article
    quoted: tuple[str, ...]  # names it quotes («Центральная Азия – Китай»): each must stand in the article as quoted
    places: tuple[tuple[str, frozenset[str]], ...]  # places it names by an adjective («узбекском»): (stem, places)
    counted: str | None  # the noun «сколько» counts, as a lemma: "страна" in «Сколько стран…»
    russian: bool  # the answer must share a word with the question
    coverage: float  # share of the question's words that the articles use
    settings: Settings


def asked(question: str, coverage: float, settings: Settings) -> Asked:
    """A "how many" question needs a number in the evidence, "when" a date, "what year" a year; the
    question's numbers, ordinals and acronyms must occur in the article ("the seventh meeting" is not
    answered by an article about the sixth, "ОДКБ" not by one about "ШОС"). Numbers and ordinals are
    values, the same in either language; English acronyms are not spelled as in Russian articles, so only
    Russian questions are held to them."""
    russian = bool(CYRILLIC.search(question))
    m = WHO_IS.match(question) if russian else None
    names = question_names(EXCLUDED.sub(" ", question)) if russian else ()
    # Questions with a verb ("Кто поблагодарил…") are not role questions, nor «Кто такой Иван Петров?» (names only:
    # names_in_article holds the article to them, and the sentence may name him by his surname alone).
    if not russian:
        role = english_role(question)
    elif m and (phrase := ROLE_ENDS.split(" " + m["phrase"], maxsplit=1)[0].strip()) and not analysis.tagged(phrase, "VERB", "INFN") \
            and "PREP" not in analysis.tag(analysis.words(phrase)[0]) and not set(analysis.words(phrase)) <= set(names):
        role = frozenset(analysis.terms(phrase))
    else:
        role = None
    marked = ACRONYM.findall(question) if russian else []
    main, first = main_clause(question), opening(question)
    return Asked(
        question=question,
        kinds=frozenset(name for name, pattern in ASKS.items() if pattern.search(main)
                        and not (name == "person_for_who" and CALLED_WHO.match(main))),
        leads=frozenset(name for name, pattern in ASKS.items() if pattern.search(first)),
        numbers=numerals.numbers(question),
        ordinals=frozenset(numerals.ordinals(question)),
        role=role,
        distinctive=frozenset(t for w in marked for t in analysis.terms(w)),
        names=names,
        quoted=tuple(m.group(0) for m in QUOTED.finditer(question)) if russian else (),
        places=place_adjectives(question) if russian else (),
        counted=numerals.counted_noun(question) if russian else None,
        russian=russian,
        coverage=coverage,
        settings=settings,
    )


# «за пределами Центральной Азии», «кроме Китая»: a name the question rules out, which the article need not name.
EXCLUDED = re.compile(r"\b(?:за пределами|кроме|помимо|вне|не считая)\s+[A-ZА-ЯЁ][\w-]*(?:(?:\s+и\s+|\s*,\s*|\s+)[A-ZА-ЯЁ][\w-]*){0,3}")
ENGLISH_ROLE = re.compile(r"^\s*who\s+(?:is|was|'s)\s+(?:the\s+)?(?P<phrase>[^?]+)\??\s*$", re.I)
LATIN_NAME = re.compile(r"\b[A-Z][a-z]{2,}\b")


def english_role(question: str) -> frozenset[str] | None:
    """«Who is the president of Tajikistan?» asks for «президент Таджикистана»: the title's Russian terms
    (rag/data/titles.toml) and the place's consonants, to be found together as for a Russian role question;
    english_role("Who is the president of Tajikistan?") == {"президент", "tkstn"}; the names after the title's «of X»
    («…at the Dushanbe session attended by Tokayev») are no part of it."""
    m = ENGLISH_ROLE.match(question)
    titles = english_titles(m["phrase"]) if m else set()
    if not titles:
        return None
    of = re.search(r"\bof\s+(?:the\s+)?((?:[A-Z][a-z]{2,}\s*)+)", m["phrase"])  # the place of the title, not the rest
    return frozenset(titles | {skeleton(w) for w in LATIN_NAME.findall(of.group(1) if of else "") if not english_titles(w)})


# A preposition governs the question word after it: «в какой стране», «со ссылкой на чей сайт».
PREPOSITION = re.compile(r"(?:\b(?:в|во|на|из|с|со|до|к|ко|за|о|об|по|у|от|для|при|через|in|on|at|from|to|for)\s+)+$", re.I)


def interrogative(question: str) -> str:
    """The main clause from its first question word on, with the prepositions before it: what is asked, wherever it
    stands. interrogative("Сессия какого совета прошла в Душанбе?") == "какого совета прошла в Душанбе?";
    interrogative("А центр в какой стране откроют?") == "в какой стране откроют?"; the question itself when no
    question word stands in its main clause."""
    main = main_clause(question)
    m = QUESTION_WORD.search(main)
    if not m:
        return question
    lead = PREPOSITION.search(main[: m.start()])
    return main[lead.start() if lead else m.start() :]


def opening(question: str) -> str:
    """The interrogative phrase's first four words, up to a comma: what it asks, not a subordinate clause's «когда»."""
    return " ".join(interrogative(question).split(",", 1)[0].split()[:4])
