"""Names a question mentions (people, places, brands) and whether an article names them too: by term, by a
country's adjective, by another way of writing the name (rag/data/names.toml), across scripts."""
from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from collections import Counter
from functools import cache, lru_cache

from unidecode import unidecode

from rag.config import DATA_DIR
from rag.index import analysis

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
# Organisations in Russian news are named in quotes or by an acronym: «Контртеррористический комитет», ОДКБ; an
# acronym of the legal form before the quotes belongs to the name: РОО «Контртеррористический комитет», АО «Заря».
QUOTED = re.compile(r"[«“„\"][^»”“\"]{2,}[»”“\"]")  # a name in quotes: «Контртеррористический комитет»
ORG_NAME = re.compile(rf"(?:\b[A-ZА-ЯЁ]{{2,}}\s+)?{QUOTED.pattern}|\b[A-ZА-ЯЁ]{{2,}}\b")
CAPITALISED = re.compile(r"(?<![\w-])[A-ZА-ЯЁ][\w-]*")
CAPITALISED_RUN = re.compile(r"(?<=[\s«\"(])[А-ЯЁ][а-яё]+(?:\s+[А-ЯЁ][а-яё]+)+")
NAME_GRAMMEMES = ("Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr")
PREFIX_MIN = 4  # a name's term this long also matches a longer term: «России» (росс) matches «российской»
ENDING_MAX = 4  # and a long one may differ in its last letters: «Таджикистана» (таджикиста) matches «таджикской»
SOFT = re.compile(r"[aeiouyjhw'ь]")  # letters transliterations add or drop (y in Tokayev, h in Kazakhstan)
SKELETON_MIN = 3


def named(word: str) -> bool:
    """A word that is a name by itself: Latin, unknown to pymorphy3, shaped like a surname, or read as a name."""
    return bool(not CYRILLIC.search(word) or not analysis.is_dictionary_word(word) or analysis.SURNAME.match(word)
                or any(g in analysis.tag(word) for g in NAME_GRAMMEMES))


def question_names(question: str) -> tuple[str, ...]:
    """The words of the question's capitalised words that pymorphy3 reads as a name, or does not know, or that
    have a surname's shape («Токаев», a rare dictionary word too), or that are Latin (brands are spelled so in Russian articles too); a capitalised common word
    («Президента», «Совета») names nothing the article must repeat, and acronyms are acronyms_in_article's:
    question_names("Где выступал Президент Токаев в Женеве?") == ("токаев", "женеве"); common words capitalised together
    inside it are a name (question_names("Что сказал Петров про Ближний Восток?") == ("петров", "ближний", "восток"))."""
    found = [w for m in CAPITALISED.finditer(question) if not m.group(0).isupper() for w in analysis.words(m.group(0))]
    # «про Ближний Восток»: common words capitalised together inside the question are a name («Президент Токаев» is a
    # title before one)
    runs = [analysis.words(m.group(0)) for m in CAPITALISED_RUN.finditer(question)]
    joined = {w for run in runs if not any(named(w) for w in run) for w in run}
    return tuple(dict.fromkeys(w for w in found if w not in analysis.STOPWORDS and not w.isdigit() and (named(w) or w in joined)))


@lru_cache(maxsize=256)
def article_terms(document: str) -> frozenset[str]:
    """An article's index terms, once per article (~3 ms)."""
    return frozenset(analysis.terms(document))


@lru_cache(maxsize=256)
def article_term_text(document: str) -> str:
    """An article's index terms in order, space-joined, so that a phrase's terms can be found in sequence."""
    return " " + " ".join(analysis.terms(document)) + " "


def quoted_in_article(quoted: str, document: str) -> bool:
    """A quoted name's words stand in the article in its order, whatever its quotes and dashes: «Центральная Азия –
    2040» is in «…"Центральная Азия - 2040"…», «Центральная Азия – Китай» is not in an article about «…– Россия»."""
    terms = analysis.terms(quoted)
    return not terms or f" {' '.join(terms)} " in article_term_text(document)


@lru_cache(maxsize=256)
def article_prefixes(document: str) -> tuple[str, ...]:
    return tuple(sorted(article_terms(document)))


@lru_cache(maxsize=256)
def article_skeletons(document: str) -> frozenset[str]:
    return frozenset(skeleton(w) for w in set(analysis.words(document)))


@lru_cache(maxsize=50_000)
def skeleton(word: str) -> str:
    """A word's consonants in Latin letters, doubles collapsed: skeleton("crocus") == skeleton("крокус") == "crcs";
    «дж» is "j" (skeleton("tajikistan") == skeleton("таджикистан"))."""
    latin = unidecode(word.lower()).replace("dzh", "j").replace("ck", "k").replace("c", "k").replace("q", "k").replace("x", "ks")
    return re.sub(r"(.)\1+", r"\1", SOFT.sub("", latin))


@cache
def same_names() -> dict[str, frozenset[str]]:
    """Each name's term → the terms of every way of writing it (rag/data/names.toml): «Киргизии» ~ «Кыргызстан»."""
    groups = tomllib.loads((DATA_DIR / "names.toml").read_text(encoding="utf-8"))["same"]
    out = {}
    for group in groups:
        terms = frozenset(analysis.term(w.lower()) for name in group for w in analysis.words(name))
        out.update({t: terms for t in terms})
    return out


def name_in_article(name: str, document: str) -> bool:
    """The name, or another way of writing it (rag/data/names.toml), is in the article (see written_in_article)."""
    return any(written_in_article(t, name, document) for t in same_names().get(analysis.term(name), {analysis.term(name)}))


# A name written this often or less is a detail of one passage, not the document's subject: «Бишкек» once in an
# article about Astana's summit, «debmake» once in a guide where «debian» and «control» stand everywhere.
RARE = 2


@lru_cache(maxsize=256)
def article_counts(document: str) -> Counter[str]:
    return Counter(analysis.terms(document))


def rare_in_article(name: str, document: str) -> bool:
    """The article writes the name at most RARE times, counting the words that begin with its stem as
    written_in_article does: rare_in_article("бишкеке", "Саммит в Бишкеке. Токаев прибыл.") is True."""
    t, counts = analysis.term(name), article_counts(document)
    if len(t) < PREFIX_MIN:
        return counts[t] <= RARE
    stem, terms = name_stem(t), article_prefixes(document)
    # the sorted terms that begin with the stem lie between it and the stem followed by the last character
    return sum(counts[w] for w in terms[bisect_left(terms, stem):bisect_left(terms, stem + "\U0010ffff")]) <= RARE


def name_stem(t: str) -> str:
    """The part of a name's term that an article's word must begin with (see written_in_article)."""
    return t[: max(PREFIX_MIN + 1, len(t) - ENDING_MAX)] if len(t) > PREFIX_MIN + 1 else t


def written_in_article(t: str, name: str, document: str) -> bool:
    """A name's term is one of the article's terms, or begins one («России» ~ «российской»), or a long one shares
    all but its last letters with one («Таджикистана» ~ «таджикской»); a Latin name also matches an article word
    of the same transliterated consonants («Crocus» ~ «Крокус»). name_in_article("женеве", "Встреча в Астане") is False."""
    if t in article_terms(document):
        return True
    if not CYRILLIC.search(name) and len(key := skeleton(name)) >= SKELETON_MIN and key in article_skeletons(document):
        return True
    if len(t) < PREFIX_MIN:
        return False
    stem, terms = name_stem(t), article_prefixes(document)
    i = bisect_left(terms, stem)
    return i < len(terms) and terms[i].startswith(stem)


def capitalised_place(name: str) -> bool:
    """capitalised_place("БИШКЕК") is True; capitalised_place("ОДКБ"), capitalised_place("США") and a quoted name are False."""
    reading = analysis.tag(name.lower())
    return name.isalpha() and "Geox" in reading and "Abbr" not in reading


# A lowercase adjective of a place («узбекском», «российский», «американская»): the question names that place. Not
# «-ческий» (экономический, политический): those come from common nouns.
PLACE_ADJECTIVE = re.compile(r"(?<!че)[сц]к(?:ий|ой)$")
LOWERCASE_WORD = re.compile(r"(?<![\w-])[а-яё]+(?![\w-])")


def place_adjectives(question: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """The places a question names by an adjective, each as (the adjective's stem, the dictionary's places that
    begin with it): place_adjectives("Что открылось в узбекском городе?") == (("узбе", {"узбекистан", …}),); an
    adjective no place begins like («президентском», «женском») names none."""
    found = []
    for w in LOWERCASE_WORD.findall(question.replace("ё", "е")):
        lemma = analysis.lemma(w)
        if "ADJF" not in analysis.tag(w) or not PLACE_ADJECTIVE.search(lemma) or len(stem := lemma[:-4]) < PREFIX_MIN:
            continue
        prefix = stem[: max(PREFIX_MIN, len(stem) - 2)]  # «американ» → «америк» (Америка), «россий» → «росс»
        if places := analysis.places_starting(prefix):
            found.append((prefix, places))
    return tuple(dict.fromkeys(found))


def place_in_article(prefix: str, places: frozenset[str], document: str) -> bool:
    """The article has a word that begins like the adjective («узбекский», «Узбекистан» for «узбе»), or names one
    of its places another way (rag/data/names.toml: «американский» ~ «США»)."""
    terms = article_prefixes(document)
    i = bisect_left(terms, prefix)
    if i < len(terms) and terms[i].startswith(prefix):
        return True
    return any(name_in_article(p, document) for p in places if analysis.term(p) in same_names())
