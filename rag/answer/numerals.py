"""Numbers, ordinals and counted nouns of a text as values, so that constraints match by value, not by substring:
«6-я» = «шестая» = "sixth" = 6, and "5" is not found inside "2025"."""
from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache
from pathlib import Path

from rag.index import analysis

NUMERALS_FILE = Path(__file__).resolve().parent.parent / "data" / "numerals.toml"
# A digit ordinal: «6-я», «6-й», «15-го», «3-м» (the ending may follow without the hyphen: «6й»).
DIGIT_ORDINAL = re.compile(r"(?<![\w.,])(\d{1,3})-?(?:ый|ий|ой|ая|яя|ое|ее|ые|ие|ого|его|го|ому|ему|му|ым|им|ом|ем|м|й|я|е|х|ю|th|st|nd|rd)(?!\w)", re.I)
# A whole number token: "2025–2027" holds 2025 and 2027 and no "5"; "3,5" is one number; «6-я» is an ordinal.
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?(?![\w]|[.,]\d|-?[^\W\d_])")
YEAR = re.compile(r"\b\d{4}\b")
MONTHS = r"(янв|фев|мар|апр|ма[йяе]|июн|июл|авг|сен|окт|ноя|дек)[а-я]*\.?"
DAY_MONTH = rf"\b\d{{1,2}} {MONTHS}|\b\d{{2}}\.\d{{2}}\.\d{{4}}"
WHEN = (rf"{DAY_MONTH}|\b{MONTHS} \d{{4}}|\b\d{{4}} (год|г\.)|\b(вчера|сегодня|завтра|недавно|понедельник|вторник|"
        r"сред[уа]|четверг|пятниц|суббот|воскресень)")


@cache
def table() -> dict[str, dict]:
    return tomllib.loads(NUMERALS_FILE.read_text(encoding="utf-8"))


@cache
def idioms() -> re.Pattern:
    """The set phrases whose ordinal word counts nothing (rag/data/numerals.toml): «в первую очередь»."""
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in table()["idioms"]["phrases"]) + r")\b", re.I)


def numbers(text: str) -> list[str]:
    """Whole number tokens, ordinals left out: numbers("на 2025–2027 годы, 5 стран, 6-я встреча") == ["2025", "2027", "5"]."""
    return [n.replace(",", ".") for n in NUMBER.findall(text)]


def ordinals(text: str) -> set[int]:
    """Ordinal values in digits or words: ordinals("6-я встреча") == ordinals("шестой встречи") == ordinals("sixth") == {6}.
    A word counts when pymorphy3 reads it as an ordinal adjective (Anum), not «второе» as in «во-вторых», nor «первую» in
    «в первую очередь» (a set phrase: ordinals("Что нужно в первую очередь?") == set())."""
    text = idioms().sub(" ", text)  # «в первую очередь» counts nothing
    found = {int(m.group(1)) for m in DIGIT_ORDINAL.finditer(text)}
    russian, english = table()["ordinal"], table()["english_ordinal"]
    for w in analysis.words(text):
        if w in english:
            found.add(english[w])
        elif w[:1].isalpha() and "Anum" in analysis.tag(w) and (value := russian.get(analysis.lemma(w))) is not None:
            found.add(value)
    return found


# «Сколько…?», and a share asked by its noun: «Какую долю населения…?», «Какой процент голосов…?».
# «Какой длины…?», «Каков размер…?»: a size, answered by a number and its unit.
MEASURE = r"(?:длин|ширин|высот|глубин|размер|величин|объ[её]м|вес|продолжительност)\w*"
SHARE = re.compile(r"\b(?:как(?:ую|ая|ой|ого)\s+дол[юяи]|what\s+(?:share|proportion|percentage|fraction))\b", re.I)
# «Насколько выросло…?» is written as one word as often as «На сколько…?»; only a verb of change makes it a number
# («Насколько важна встреча?» asks how important).
CHANGED = r"(?=(?:\s+[^\W\d_]+){0,3}?\s+(?:вырос|возрос|увелич|уменьш|сократ|сниз|упа|повыс|пониз|подорож|подешев|прибав))"
HOW_MANY = re.compile(rf"\b(скольк(?:о|их|им|ими)|скока|как(?:ую|ая|ой|ого) процент\w*|how many|how much)\b|\bнасколько{CHANGED}|"
                      rf"{SHARE.pattern}", re.I)
# A share in words counts the noun after it as a numeral does: «половину населения», «две трети голосов».
FRACTION_WORDS = frozenset({"половина", "треть", "четверть"})
NUMERAL_REACH = 3  # words between a numeral and the noun it counts: «пяти крупнейших стран»


def counted_noun(question: str) -> str | None:
    """The first noun within three words after «сколько», as a lemma: counted_noun("Сколько стран вошло?") == "страна",
    counted_noun("Какую долю населения…?") == "население"; a «Какой процент…?» counts процент; a noun past a comma
    is none (counted_noun("На сколько, по оценке Петрова, выросло число?") is None), and so is a noun after a
    preposition (counted_noun("Насколько выросли за год цены?") is None)."""
    m = HOW_MANY.search(question)
    if not m:
        return None
    if "процент" in m.group(0).lower():  # «Какой процент голосов…?» is answered in percent: «52 процента»
        return "процент"
    # «На сколько, по оценке Петрова, выросло…»: a noun past a comma is not what is counted
    # «Насколько выросло за год…»: a noun after a preposition is a circumstance, not what is counted
    words = analysis.words(question[m.end() :].split(",")[0])[:NUMERAL_REACH]
    for before, word in zip([""] + words, words):
        if "NOUN" in analysis.tag(word) and not (before and "PREP" in analysis.tag(before)):
            return analysis.lemma(word)
    return None


# «пятистороннего сотрудничества», «двухсторонний»: a numeral stem joined to the counted noun's.
COMPOUND = re.compile(r"^(?:одно|дву|двух|тр[её]х|четыр[её]х|пяти|шести|семи|восьми|девяти|десяти)(?P<rest>[а-яё]{4,})")


def compounds_count(counted: str | None, word: str) -> bool:
    """Whether a word is a numeral compound of the counted noun: compounds_count("сторона", "пятистороннего") is True,
    compounds_count("год", "пятилетний") is False (the noun's stem, not its meaning)."""
    m = COMPOUND.match(word.lower())
    return bool(m and counted and len(counted) >= 4 and m["rest"].startswith(counted[:-1]))


def counts_in_words(counted: str | None, sentence: str) -> bool:
    """A numeral word, counting the asked noun when the question names one: «пяти крупнейших стран» counts
    "страна", «трем силам зла» does not."""
    found = analysis.words(sentence)
    if any(compounds_count(counted, w) for w in found):
        return True
    for i, word in enumerate(found):
        if ("NUMR" in analysis.tag(word) or analysis.lemma(word) in FRACTION_WORDS) and (
                counted is None or counted in {analysis.lemma(w) for w in found[i + 1 : i + 1 + NUMERAL_REACH]}):
            return True
    return False


def cardinals(text: str) -> list[str]:
    """Cardinal numbers written in words, as digits: cardinals("ограничьте описание шестьюдесятью символами, а
    заголовок — двадцатью пятью") == ["60", "25"]; cardinals("три тысячи участников") == ["3000"]. «один» is left out:
    «один из…» names no count."""
    found, run = [], None
    cardinal, multiplier = table()["cardinal"], table()["multiplier"]
    for w in analysis.words(text) + [""]:  # the empty word ends the last run
        numeral = analysis.reading(w, "NUMR") if w else None  # «сто» is likeliest the abbreviation СТО
        if numeral and numeral[1] in cardinal:
            run = (run or 0) + cardinal[numeral[1]]
            continue
        if run is not None and (lemma := analysis.lemma(w) if w else "") in multiplier:
            run *= multiplier[lemma]
        if run is not None:
            found.append(str(run))
        run = None
    return found


@lru_cache(maxsize=256)
def article_numbers(document: str) -> frozenset[str]:
    """An article's numbers, in digits or in words (a question's «60» is in «…шестьюдесятью символами»), once per
    article (~1 ms for digits, a few ms for words)."""
    return frozenset(numbers(document)) | frozenset(cardinals(document))


@lru_cache(maxsize=256)
def article_ordinals(document: str) -> frozenset[int]:
    """An article's ordinal values, once per article."""
    return frozenset(ordinals(document))
