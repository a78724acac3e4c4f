"""Text → BM25 terms for Russian (and English): lemmatise with pymorphy3, then stem with Snowball."""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from itertools import islice

import pymorphy3
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_RUSSIAN

# Bump when terms() changes: BM25 terms are worked out again (no re-embedding).
VERSION = "pymorphy3+snowball-2"


def config() -> dict:
    """What the BM25 terms depend on: this code's version and the dictionary and stemmer releases."""
    return {"version": VERSION, "pymorphy3_dicts": _version("pymorphy3-dicts-ru"), "pystemmer": _version("PyStemmer"),
            "bm25s_stopwords": _version("bm25s")}


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
CYRILLIC = re.compile(r"[а-яё]")
# Latin letters that look Cyrillic: sites mix them into Russian words ("cоветов" with a Latin c).
HOMOGLYPHS = str.maketrans("aceopxyk", "асеорхук")
# Surnames in -ов/-ев/-ин inflect like adjectives and are missing from the dictionary (or, like
# "токаев", clash with a rare word): cutting the case ending first makes every form agree.
SURNAME = re.compile(r"^(\w{2,}(?:ов|ев|ин|ын))(?:а|у|ым|ом|ой|ою|е|ы|ых|ыми)?$")
# Question words carry no topic: a question should not need them in the articles.
QUESTION_WORDS = frozenset(
    "сколько скока скольких кто кого кому кем что чо чего чем чему где когда куда откуда почему зачем "
    "какой какая какое какие каком какого какую каких каким какими каков какова каково каковы как ли это этот эта эти "
    "который которая которое которые котором которого которой которых называется зовут".split()
)
STOPWORDS = frozenset(STOPWORDS_RUSSIAN) | frozenset(STOPWORDS_EN) | QUESTION_WORDS
WORD_CACHE = 500_000

_morph = pymorphy3.MorphAnalyzer()
_stem_ru = Stemmer.Stemmer("russian")
_stem_en = Stemmer.Stemmer("english")
_lock = threading.Lock()  # pymorphy3 and PyStemmer objects are not documented as thread-safe


def _parse(word: str):
    """pymorphy3's likeliest reading. A letter Unicode gives no name (Tangut, newer CJK) breaks pymorphy3's check
    for Latin letters (unicodedata.name raises), so such letters are left out of the word it reads."""
    try:
        return _morph.parse(word)[0]
    except ValueError:
        return _morph.parse("".join(ch for ch in word if unicodedata.name(ch, "")) or "-")[0]


@lru_cache(maxsize=WORD_CACHE)
def term(word: str) -> str:
    """One lowercase word → its index term, the same for every inflected form."""
    if CYRILLIC.search(word):
        word = word.translate(HOMOGLYPHS)
        with _lock:
            if m := SURNAME.match(word):
                return _stem_ru.stemWord(m.group(1))
            # Snowball alone splits "саммит" from "саммита": lemmatise first, then stem.
            return _stem_ru.stemWord(_parse(word).normal_form.replace("ё", "е"))
    if word.isdigit():
        return word
    with _lock:
        return _stem_en.stemWord(word)


# pymorphy3's parse is pure Python (about 0.1 ms a word), and answers look up the same question and evidence
# words again and again: a word's reading and dictionary membership are kept once worked out.
@lru_cache(maxsize=WORD_CACHE)
def is_dictionary_word(word: str) -> bool:
    """True if pymorphy3's dictionary knows this lowercase word form."""
    with _lock:
        return _morph.word_is_known(word)


@lru_cache(maxsize=WORD_CACHE)
def _tag(word: str):
    with _lock:
        return _parse(word).tag


def tagged(text: str, *grammemes: str) -> list[str]:
    """Words of a text whose likeliest reading has one of these pymorphy3 grammemes (NUMR, Anum, Name…)."""
    return [w for w in words(text) if any(g in _tag(w) for g in grammemes)]


def words(text: str) -> list[str]:
    """Lowercase word tokens (ё folded to е); hyphenated names split into their parts."""
    return WORD_RE.findall(text.lower().replace("ё", "е"))


def terms(text: str) -> list[str]:
    """Index terms of a text, stopwords removed."""
    return [term(w) for w in words(text) if w not in STOPWORDS]


def tag(word: str):
    """pymorphy3's likeliest reading of one lowercase word (POS, case, number…), cached."""
    return _tag(word)


@lru_cache(maxsize=WORD_CACHE)
def lemma(word: str) -> str:
    """pymorphy3's likeliest dictionary form of one lowercase word, ё folded: lemma("шестая") == "шестой"."""
    with _lock:
        return _parse(word).normal_form.replace("ё", "е")


@lru_cache(maxsize=WORD_CACHE)
def reading(word: str, *grammemes: str) -> tuple[object, str] | None:
    """The likeliest reading of a lowercase word that has all these grammemes, as (tag, lemma), or None: «угрозы»
    is likeliest a genitive singular, but reading("угрозы", "NOUN", "accs") finds its accusative plural."""
    with _lock:
        found = next((p for p in _morph.parse(word) if all(g in p.tag for g in grammemes)), None)
    return (found.tag, found.normal_form.replace("ё", "е")) if found else None


def forms(word: str) -> list[str]:
    """Every form of the likeliest reading of a word: forms("счёт") holds "счёту" and "счетов"."""
    with _lock:
        return [f.word for f in _parse(word).lexeme]


def inflect(word: str, case: str) -> str:
    """The word in another grammatical case ("саммит ШОС" → "о саммите" needs "loct"); unchanged when pymorphy3
    cannot inflect it. Keeps a capital first letter."""
    with _lock:
        form = _parse(word.lower()).inflect({case})
    if form is None:
        return word
    return form.word[:1].upper() + form.word[1:] if word[:1].isupper() else form.word


@lru_cache(maxsize=4096)
def places_starting(prefix: str, limit: int = 400) -> frozenset[str]:
    """Lemmas of the place names (Geox) pymorphy3's dictionary has that begin with a lowercase prefix:
    places_starting("узбе") holds "узбекистан"; places_starting("през") is empty."""
    with _lock:
        keys = list(islice(_morph.dictionary.words.iterkeys(prefix), limit))
        readings = [_morph.parse(k)[0] for k in dict.fromkeys(keys)]
    return frozenset(p.normal_form.replace("ё", "е") for p in readings if "Geox" in p.tag)
