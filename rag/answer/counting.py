"""Rules for «Сколько…?» and «Какой длины…?» questions: the evidence must have a number, a share or a numeral word
that counts what is asked («Сколько символов…?» is not answered by «в строке 12»), a size must come with its unit,
and «число X» must count X; a size is answered by its number and unit."""
from __future__ import annotations

import re

from rag.answer import numerals
from rag.answer.asked import Asked
from rag.answer.phrase import number
from rag.index import analysis
from rag.retrieve.retriever import Evidence

NUMBER = re.compile(r"\d+")
FRACTIONS = re.compile(r"\b(половин|треть|четверт|несколько|десятк|сотн|тысяч|миллион|миллиард)", re.IGNORECASE)


def number_for_how_many(a: Asked, e: Evidence) -> bool:
    """«Сколько…?» needs a number, a fraction or a numeral word that counts what is asked: «Приехали 120
    участников», «…сорок участников» and «…половина участников» pass, «Приехали участники из разных городов»
    and, for «Сколько стран…?», «Они противостоят трем силам зла» not; a share («Какая доля программ…?») is
    answered by a percentage of anything («…90% пакетов»)."""
    return "number_for_how_many" not in a.kinds or bool(
        (NUMBER.search(e.text) or FRACTIONS.search(e.text)) and names_the_counted(a.counted, e.text)
        or numerals.counts_in_words(a.counted, e.text)
        or numerals.SHARE.search(a.question) and PERCENT.search(e.text)
    )


# «Для какой доли программ…?» (numerals.SHARE) is answered in percent of whatever the sentence counts: «…90% пакетов».
PERCENT = re.compile(r"\d\s*%|\d\s+процент", re.I)


# «длина поля … равна 10»: a measure's number needs no unit beside it.
MEASURE_WORDS = frozenset({"длина", "ширина", "высота", "глубина", "размер", "величина", "объём", "объем", "вес", "продолжительность"})


def names_the_counted(counted: str | None, sentence: str) -> bool:
    """Digits answer «Сколько символов…?» only in a sentence that names символы or a measure: «не более 60 символов»
    and «длина поля равна 10», not «в строке 12» (a number of something else); «Сколько процентов…?» is answered by
    «30%» too."""
    if counted is None or counted == "процент" and "%" in sentence:
        return True
    lemmas = {analysis.lemma(w) for w in analysis.words(sentence)}
    return counted in lemmas or bool(lemmas & MEASURE_WORDS)


def measure_for_what_size(a: Asked, e: Evidence) -> bool:
    """«Какой длины должно быть описание?» needs a number with its unit: «не более 60 символов» and «шестьюдесятью
    символами» pass, «В строке 12 стоит описание» (a number of no unit) not."""
    if "measure_for_what_size" not in a.kinds:
        return True
    words = re.findall(r"\d+(?:[.,]\d+)?|[^\W\d_]+", e.text)
    return any((w[0].isdigit() or "NUMR" in analysis.tag(w.lower())) and "NOUN" in analysis.tag(after.lower())
               for w, after in zip(words, words[1:]))


NUMBER_OF = re.compile(r"\b(?:числ[оау]|количеств[оау]|дол[июя])\s+([^\W\d_]+)", re.I)


def measured_noun_in_sentence(a: Asked, e: Evidence) -> bool:
    """«На сколько выросло число терактов?» measures терактов: the sentence must name what it counts, «…число
    терактов выросло на 30 процентов» passes, «…183 конфликта, число которых выросло на 30 процентов» not."""
    if "number_for_how_many" not in a.kinds:
        return True
    nouns = [m.group(1) for m in NUMBER_OF.finditer(a.question) if "NOUN" in analysis.tag(m.group(1).lower())]
    if not nouns:  # «Сколько стран…?» names no «число X»: nothing to read in the sentence
        return True
    lemmas = {analysis.lemma(w) for w in analysis.words(e.text)}
    return all(analysis.lemma(n.lower()) in lemmas for n in nouns)


def short_measure(a: Asked, e: Evidence) -> str:
    """«Какой длины должно быть описание?» is answered «шестьюдесятью символами» from «Экран вмещает 80 столбцов,
    поэтому ограничьте описание шестьюдесятью символами»: the number with its unit in the clause that names what is
    measured (the first clause's number when none does)."""
    if "measure_for_what_size" not in a.leads:
        return ""
    asked_terms = {analysis.term(w) for w in analysis.words(a.question)
                   if w not in analysis.STOPWORDS and not re.fullmatch(numerals.MEASURE, w)}  # «длины» names no thing
    found = [(bool(asked_terms & set(analysis.terms(clause))), n) for clause in CLAUSE.split(e.text) if (n := size(clause))]
    return next((n for named, n in found if named), found[0][1] if found else "")


CLAUSE = re.compile(r"[,;:]|\s[-–—]\s")


def size(clause: str) -> str:
    """The clause's first number with its unit that is no share: size("Имена 80% улиц короче 20 букв") == "20 букв"."""
    while n := number(None, clause):
        if not PERCENT.search(n):
            return n
        clause = clause[clause.index(n) + len(n) :]
    return ""
