"""The answer rules: named checks that decide which evidence may answer a question and whether the best of it
is sure enough. `decide()` (extract.py) consults every rule that `settings.disabled_rules` does not switch off,
so `rag eval` can switch each off in turn and measure what it earns (the ablation table).

A rule is a name, a docstring with an example, and a function `(Asked, Evidence) -> bool`: True when the
evidence passes. An "evidence" rule filters the candidate sentences; a "prefer" rule picks, among those nearly
as good as the best, one that has what the question asks for (the scores cannot see a «так как»); an "answer"
rule judges the one that won and turns a failure into an abstention; a "widen" rule has the winner quoted with
the sentence after it, which completes it; a "phrase" rule (rag/answer/phrase.py,
`-> str`) cuts the short answer from it (the citation quotes the whole sentence). A new rule is one function and
one line in RULES.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rag.answer import numerals
from rag.answer.asked import CYRILLIC, WHO_IS, Asked, asked, interrogative  # noqa: F401 (asked: callers take it from the rules)
from rag.answer.counting import NUMBER, measure_for_what_size, measured_noun_in_sentence, number_for_how_many, short_measure
from rag.answer.identifiers import short_identifier, technical_names_in_article, technical_names_near_answer
from rag.answer.names import (
    ORG_NAME,
    article_terms,
    capitalised_place,
    name_in_article,
    place_in_article,
    quoted_in_article,
    rare_in_article,
    skeleton,
)
from rag.answer.numerals import DAY_MONTH, WHEN, YEAR
from rag.answer.owners import short_owner
from rag.answer.people import CAPITALISED_WORD, WHOM, unnamed
from rag.answer.phrase import (
    short_date,
    short_description,
    short_name,
    short_number,
    short_ordinal,
    short_organisation,
    short_person,
)
from rag.answer.places import place, short_place
from rag.answer.statements import reason_after_claim, reason_for_why, said_after_announcement, said_not_announced, several_for_which_ones
from rag.config import Settings
from rag.errors import SettingsError
from rag.index import analysis
from rag.retrieve.retriever import Evidence, question_terms


def names_a_person(sentence: str) -> bool:
    """A first name, surname or patronymic, or an unknown capitalised word that is not the sentence's first. Russian
    text writes people's names in Cyrillic: a Latin word («Tengrinews», «Debian») is a brand, a site or a program."""
    later = " ".join(re.findall(r"\w+", sentence)[1:])
    capitalised = re.findall(r"\b[А-ЯЁ][а-яё]+", later)
    return bool(analysis.tagged(" ".join(capitalised), "Name", "Surn", "Patr")) or any(
        not analysis.is_dictionary_word(w.lower()) for w in capitalised
    )


def names_an_organisation(sentence: str) -> bool:
    """A name in quotes or an acronym; a place name written in capitals (the dateline «БИШКЕК, 5 июля») is no
    organisation: pymorphy3 reads it as a place (Geox) and not as an abbreviation (as it reads «США», «СНГ»)."""
    return any(not capitalised_place(m.group(0)) for m in ORG_NAME.finditer(sentence))


def names_the_role(role: frozenset[str], sentence: str) -> bool:
    """All the role's words within a few words of each other (not "секретари ... ШОС" nor
    "премьер-министр Армении ... президент Таджикистана"); an English question's place by its consonants
    (english_role: "tkstn" is «Таджикистана»)."""
    latin = any(not CYRILLIC.search(t) for t in role)
    seq = [{analysis.term(w), skeleton(w)} if latin else {analysis.term(w)}
           for w in analysis.words(sentence) if w not in analysis.STOPWORDS]
    width = len(role) + 1
    return any(role <= set().union(*seq[i : i + width]) and not deputy(role, seq, i) for i in range(max(1, len(seq) - width + 1)))


# «Заместитель председателя комитета» is not «председатель комитета»: a word that makes the title another's.
DEPUTY = frozenset(analysis.term(w) for w in ("заместитель", "зам", "вице", "помощник", "советник", "бывший", "экс"))


def deputy(role: frozenset[str], seq: list[set[str]], i: int) -> bool:
    """Whether the role's words from seq[i] on follow a word that makes the title another person's, which the
    question does not ask for: «…председателя…» after «Заместитель» for the role {председатель, комитет}."""
    first = next((j for j in range(i, len(seq)) if seq[j] & role), i)
    return first > 0 and bool(seq[first - 1] & DEPUTY) and not role & DEPUTY


def confidence(question: str, e: Evidence, coverage: float, settings: Settings) -> float:
    """How sure the evidence answers the question, on the scale the abstain thresholds are calibrated on.
    Words of a Russian question that the articles never use make an answer less likely."""
    if not CYRILLIC.search(question):  # cross-lingual: word overlap and coverage say nothing
        return e.similarity
    return e.score - settings.coverage_weight * (1.0 - coverage)


def threshold(question: str, settings: Settings) -> float:
    return settings.abstain_threshold if CYRILLIC.search(question) else settings.abstain_threshold_crosslingual


# --- The rules, in the order they are checked (cheap ones first) -------------------------------------------


def not_a_heading(a: Asked, e: Evidence) -> bool:
    """A heading is structure: it names a topic, the text under it answers. «Саммит ШОС в Астане и его важность»
    as a section heading never answers «Когда пройдет саммит ШОС?»; a sentence under it may."""
    return not e.heading


def shares_a_word(a: Asked, e: Evidence) -> bool:
    """A sentence that shares no word with a Russian question is only similar in topic: its chunk's context
    lifts it (sentence vectors are read in context), so alone it is a near miss. «В каком году Мирманова дала
    интервью?» is not answered by «Стратегия "Центральная Азия – 2040" принята…»."""
    return e.overlap > 0 or not a.russian


# A cross-reference names another section by its title: «(смотрите Раздел 4.1, «Файл control»)», «описано в Глава 4,
# Обязательные файлы в каталоге debian и …».
REFERENCE = re.compile(r"\b(?:глав[аеыу]|раздел[аеу]?|приложени[еяи])\s+[A-Z0-9][0-9.]*,\s*(?:«[^»]*»|[^,.;()«]+?(?=\s+и\s+(?:глав|раздел)|[,.;()]|$))",
                       re.I)


def more_than_a_reference(a: Asked, e: Evidence) -> bool:
    """A sentence whose words in common with the question all stand in the title of a section it points to is a
    pointer, not the answer: «Какие файлы обязательны?» is not answered by «Их назначение описано в Глава 4,
    Обязательные файлы в каталоге debian.», but by «Наиболее важные из них: control и rules; они обязательны.»"""
    if not a.russian or not REFERENCE.search(e.text):
        return True
    return not set(question_terms(a.question)).isdisjoint(analysis.terms(REFERENCE.sub(" ", e.text)))


def year_for_what_year(a: Asked, e: Evidence) -> bool:
    """«В каком году…?» needs a four-digit year: «Саммит пройдет в 2025 году» passes, «Саммит пройдет летом» not."""
    return "year_for_what_year" not in a.kinds or bool(YEAR.search(e.text))


def digits_for_a_period(a: Asked, e: Evidence) -> bool:
    """«На какой срок…?» needs digits: «Программа на 2025–2027 годы» passes, «Программа на ближайшие годы» not."""
    return "digits_for_a_period" not in a.kinds or bool(NUMBER.search(e.text))


def day_for_what_date(a: Asked, e: Evidence) -> bool:
    """«Какого числа…?» needs a day and month: «Встреча пройдет 9 августа» passes, «Встреча пройдет в августе» not."""
    return "day_for_what_date" not in a.kinds or bool(re.search(DAY_MONTH, e.text, re.I))


def time_for_when(a: Asked, e: Evidence) -> bool:
    """«Когда…?» needs a time expression: «Встреча пройдет 9 августа» or «…в пятницу» passes, «Встреча пройдет в Астане» not."""
    return "time_for_when" not in a.kinds or bool(re.search(WHEN, e.text, re.I))


def person_for_who(a: Asked, e: Evidence) -> bool:
    """«Кто…?» needs a person: «Об этом заявил Иван Петров» passes, «Об этом заявили в министерстве» not; «Кто такой
    наставник?» is answered by what the word means too: «наставник (mentor) — человек, который помогает…»."""
    if "person_for_who" not in a.kinds or names_a_person(e.text) or defines_the_asked(a.question, e.text):
        return True
    # «Кому передают брошенный пакет?»: what is given to or done to may be a group («…передал его Debian QA Group»)
    return bool(WHOM.match(interrogative(a.question))) and bool(re.search(r"\b[A-Z][a-z]+\s+[A-Z]{2,}|\b[A-Z]{2,}\b", e.text))


DEFINITION = re.compile(r"^\W*(?P<word>[^\W\d_]+)(?:\s+\([^)]{1,40}\))?\s+[—–-]\s")


def defines_the_asked(question: str, sentence: str) -> bool:
    """«Кто такой X?» and a sentence that opens «X — …» (a glossary's line)."""
    m, d = WHO_IS.match(question), DEFINITION.match(sentence)
    return bool(m and d) and analysis.lemma(d["word"].lower()) == next(
        (analysis.lemma(w) for w in analysis.words(m["phrase"]) if "NOUN" in analysis.tag(w)), None)


def name_for_which_organisation(a: Asked, e: Evidence) -> bool:
    """«Какая организация…?» needs a name in quotes or an acronym: «Она работает в ОДКБ» passes,
    «Она работает в одной организации» and «МИНСК, 3 мая. Она работает в одной организации» not."""
    return "name_for_which_organisation" not in a.kinds or names_an_organisation(e.text)


def place_for_which_place(a: Asked, e: Evidence) -> bool:
    """«Какая страна…?», «В каком городе…?» need a place the question does not name: «План предложила Молдова»,
    «Центр откроется в городе Бельцы» and a dateline's «ГРОДНО, 2 мар — …» pass, «План предложили страны региона» not."""
    if "place_for_which_place" not in a.kinds:
        return True
    words = [m.group(0) for m in CAPITALISED_WORD.finditer(e.text)] + [w for w in re.findall(r"\b[А-ЯЁ]{3,}\b", e.text) if capitalised_place(w)]
    return any("Geox" in analysis.tag(w.lower()) and unnamed(a.question, w) for w in words) or bool(place(a.question, e.text))


# «Кто из президентов…?», "Which of the leaders…?": one of a group the question names.
ONE_OF = re.compile(r"^\W*(?:а\s+)?(?:кто|кого|кому|кем)\s+из\b|^\W*(?:who|which)\s+of\b", re.I)


def several_for_which_of(a: Asked, e: Evidence) -> bool:
    """A preference: «Кто из президентов подключился по видео?» picks one of a group, so a sentence that names the
    group («Приехали президент Молдовы Иван Петров, президент Литвы Анна Смирнова (по видео)…») answers it better
    than one as close about a single person («Президент Иван Петров принял участие в сессии.»)."""
    return not ONE_OF.search(a.question) or sum(kind == "PER" for *_, kind in e.entities) >= 2  # the NER's people


def role_words_together(a: Asked, e: Evidence) -> bool:
    """«Кто генеральный секретарь ОДКБ?» needs «генеральный секретарь ОДКБ» within a few words:
    «Генеральный секретарь ОДКБ Иван Петров» passes, «секретари советов … ОДКБ» not (nor does a definition of the
    word need them: «Кто такой наставник в проекте?» ~ «наставник — человек, который…»)."""
    return a.role is None or names_the_role(a.role, e.text) or defines_the_asked(a.question, e.text)


def question_numbers_in_article(a: Asked, e: Evidence) -> bool:
    """Numbers the question names must occur in the article as whole numbers: «Какая программа принята на
    2031–2035 годы?» is not answered by an article about the programme for 2025–2027, «…5 стран?» not by one
    that only has «2025»."""
    return not a.numbers or set(a.numbers) <= numerals.article_numbers(e.document)


def ordinals_in_article(a: Asked, e: Evidence) -> bool:
    """Ordinals the question names must occur in the article by value: «6-я встреча» is answered by an article
    about «шестой встречи», «седьмая встреча» not by one about the sixth."""
    return not a.ordinals or a.ordinals <= numerals.article_ordinals(e.document)


def names_in_article(a: Asked, e: Evidence) -> bool:
    """Every name a Russian question mentions must occur in the article: «Когда президенты встречались в Женеве?»
    is not answered by an article about a meeting in Астана, «Что сказал Петров?» not by one quoting Иванов."""
    return all(name_in_article(n, e.document) for n in a.names)


def names_near_answer(a: Asked, e: Evidence) -> bool:
    """A name the article writes once or twice must stand in the evidence's section, up to the paragraph after it:
    «Что Токаев назвал сигналом по итогам саммита в Бишкеке?» is not answered by a sentence on Astana's summit
    because a later paragraph of the article mentions Бишкек; «Токаев», named throughout, may stand anywhere."""
    if not (rare := [n for n in a.names if rare_in_article(n, e.document)]):
        return True
    near = e.section_text()
    return all(name_in_article(n, near) for n in rare)


def quoted_names_in_article(a: Asked, e: Evidence) -> bool:
    """A name a Russian question quotes must stand in the article word for word: «…в формате «Центральная Азия –
    Китай»?» is not answered by an article about the format «Центральная Азия – Россия»."""
    return all(quoted_in_article(q, e.document) for q in a.quoted)


def place_adjectives_in_article(a: Asked, e: Evidence) -> bool:
    """A place a Russian question names by an adjective must occur in the article: «Что открылось в узбекском
    городе?» is not answered by an article that names neither Узбекистан nor anything узбекское; «Что сказал
    американский министр?» is by one about США (rag/data/names.toml)."""
    return all(place_in_article(prefix, places, e.document) for prefix, places in a.places)


def acronyms_in_article(a: Asked, e: Evidence) -> bool:
    """Acronyms of a Russian question must occur in the article: «ОДКБ» is not answered by an article about «ШОС»."""
    return not a.distinctive or a.distinctive <= article_terms(e.document)  # an article's terms: ~3 ms


def confident(a: Asked, e: Evidence) -> bool:
    """The best evidence must reach the calibrated threshold (`rag calibrate`), else abstain: a question on the
    weather («Какая погода в Астане?») is not answered by the closest sentence, «Саммит пройдет в Астане»."""
    return confidence(a.question, e, a.coverage, a.settings) >= threshold(a.question, a.settings)


@dataclass(frozen=True)
class Rule:
    """A named check: `applies` "evidence" filters candidate sentences, "prefer" moves a candidate it likes ahead
    of better-scored ones within `settings.prefer_margin`, "answer" judges the chosen one, "widen" reads it with
    the sentence after it (in its paragraph), and "phrase" cuts the short answer from it (its check returns the
    phrase, "" when the sentence answers)."""

    name: str
    check: Callable[[Asked, Evidence], bool | str]
    applies: Literal["evidence", "prefer", "answer", "widen", "phrase"] = "evidence"

    @property
    def doc(self) -> str:
        return " ".join((self.check.__doc__ or "").split())


RULES: dict[str, Rule] = {
    r.name: r
    for r in [
        Rule("not_a_heading", not_a_heading),
        Rule("shares_a_word", shares_a_word),
        Rule("more_than_a_reference", more_than_a_reference),
        Rule("year_for_what_year", year_for_what_year),
        Rule("digits_for_a_period", digits_for_a_period),
        Rule("day_for_what_date", day_for_what_date),
        Rule("time_for_when", time_for_when),
        Rule("person_for_who", person_for_who),
        Rule("name_for_which_organisation", name_for_which_organisation),
        Rule("number_for_how_many", number_for_how_many),
        Rule("measure_for_what_size", measure_for_what_size),
        Rule("place_for_which_place", place_for_which_place),
        Rule("measured_noun_in_sentence", measured_noun_in_sentence),
        Rule("role_words_together", role_words_together),
        Rule("question_numbers_in_article", question_numbers_in_article),
        Rule("ordinals_in_article", ordinals_in_article),
        Rule("acronyms_in_article", acronyms_in_article),
        Rule("technical_names_in_article", technical_names_in_article),
        Rule("technical_names_near_answer", technical_names_near_answer),
        Rule("names_in_article", names_in_article),
        Rule("names_near_answer", names_near_answer),
        Rule("quoted_names_in_article", quoted_names_in_article),
        Rule("place_adjectives_in_article", place_adjectives_in_article),
        Rule("reason_for_why", reason_for_why, "prefer"),
        Rule("said_not_announced", said_not_announced, "prefer"),
        Rule("several_for_which_of", several_for_which_of, "prefer"),
        Rule("several_for_which_ones", several_for_which_ones, "prefer"),
        Rule("confident", confident, "answer"),
        Rule("reason_after_claim", reason_after_claim, "widen"),
        Rule("said_after_announcement", said_after_announcement, "widen"),
        Rule("short_date", short_date, "phrase"),
        Rule("short_number", short_number, "phrase"),
        Rule("short_measure", short_measure, "phrase"),
        Rule("short_ordinal", short_ordinal, "phrase"),
        Rule("short_person", short_person, "phrase"),
        Rule("short_description", short_description, "phrase"),
        Rule("short_place", short_place, "phrase"),
        Rule("short_organisation", short_organisation, "phrase"),
        Rule("short_name", short_name, "phrase"),
        Rule("short_owner", short_owner, "phrase"),
        Rule("short_identifier", short_identifier, "phrase"),
    ]
}


def check_names(names: list[str]) -> None:
    """Refuse a disabled rule that does not exist, so a typo cannot leave a rule on unnoticed."""
    if unknown := sorted(set(names) - set(RULES)):
        raise SettingsError(f"disabled_rules: unknown rule(s) {', '.join(unknown)}: choose from {', '.join(RULES)}")


def enabled(settings: Settings, applies: str) -> list[Rule]:
    return [r for r in RULES.values() if r.applies == applies and r.name not in settings.disabled_rules]
