"""Short answers: the phrase of the chosen sentence that answers a date, number, organisation or role question («9
августа 2025 года», «более 183 региональных конфликтов», «ОДКБ»; places in places.py); the citation still quotes
the whole sentence. "" when no phrase can be cut with confidence: then the sentence is the answer."""
from __future__ import annotations

import re

from rag.answer import numerals
from rag.answer.asked import Asked, interrogative
from rag.answer.names import ORG_NAME, QUOTED, capitalised_place
from rag.answer.numerals import DAY_MONTH, WHEN
from rag.answer.people import (
    NOT_A_TITLE,
    WHOM,
    describes_a_name,
    description,
    doer,
    object_of,
    person,
    unnamed,
    which_person,
)
from rag.index import analysis
from rag.retrieve.retriever import Evidence

# A preposition or a modifier before the phrase belongs to it: «в 2025 году», «с 9 августа», «более 120».
LEAD = re.compile(r"(?:(?<=\s)|^)((?:в|во|с|со|до|к|на|за|от|по|после|около|более|менее|свыше|почти|около|порядка|"
                  r"примерно|больше|меньше|до|уже|лишь|только)\s+)+$", re.I)
YEAR_TAIL = re.compile(r"\s+\d{4}(?:\s*[-–—]\s*\d{4})?(?:\s+(?:год\w*|гг?\.))?")
YEAR_SPAN = re.compile(r"\b\d{4}(?:\s*[-–—]\s*\d{4})?(?:\s+(?:год\w*|гг?\.))?")
# A number in digits (with its decimals and a word of scale) or in words.
DIGITS = re.compile(r"\d+(?:[.,]\d+)?(?:\s*(?:%|процент\w*|млн\.?|млрд\.?|тыс\.?|миллион\w*|миллиард\w*|тысяч\w*))?")
NOUN_REACH = 4  # words from a number to the noun it counts: «183 региональных и локальных конфликта»
MAX_CHARS = 80  # a phrase longer than this is no short answer: the sentence answers
# An agency's dateline opening the sentence, «МУРМАНСК, 2 мар — »: its date is the report's, not the event's.
DATELINE = re.compile(r"^[A-ZА-ЯЁ][A-ZА-ЯЁ\- ]{1,40},\s+\d{1,2}\s+[а-яё]{3,9}\.?(?:\s+\d{4})?\s*[-—–]\s*")


def with_lead(text: str, start: int, end: int) -> str:
    """The span with the prepositions and modifiers right before it: with_lead("Саммит в 2025 году", 9, 18) == "в 2025 году"."""
    m = LEAD.search(text[:start])
    return text[m.start() if m else start : end].strip()


def short(answer: str) -> str:
    """The phrase if it is short, without a sentence's full stop («9 августа.»; an abbreviation's «г.» stays)."""
    if re.search(r"[^\W\d_]{4,}\.$", answer):
        answer = answer[:-1]
    return answer if 0 < len(answer) <= MAX_CHARS else ""


def year(text: str) -> str:
    """The first year (or span of years) with its «году»: year("Саммит пройдет в 2025 году в Астане.") == "в 2025 году"."""
    m = YEAR_SPAN.search(text)
    return short(with_lead(text, m.start(), m.end())) if m else ""


def day(text: str) -> str:
    """The first day and month with the year after it: day("Встреча пройдет 9 августа 2025 года.") == "9 августа 2025 года"."""
    m = re.search(DAY_MONTH, text, re.I)
    if not m:
        return ""
    tail = YEAR_TAIL.match(text, m.end())
    return short(with_lead(text, m.start(), tail.end() if tail else m.end()))


def time(text: str) -> str:
    """The first time expression with the year after it: time("Встреча пройдет в пятницу в Астане.") == "в пятницу"."""
    m = re.search(WHEN, text, re.I)
    if not m:
        return ""
    end = m.end()
    if (tail := YEAR_TAIL.match(text, end)) and not m.group(0)[-1:].isdigit():
        end = tail.end()
    word_end = re.match(r"\w*", text[end:])  # a weekday or «ма[йя]» matched by its stem: the whole word
    return short(with_lead(text, m.start(), end + word_end.end()))


def number(counted: str | None, text: str) -> str:
    """A number with the noun it counts, the one the question counts when it names one:
    number("страна", "В 2024 году 5 крупнейших стран подписали договор.") == "5 крупнейших стран"; "" when no
    number counts the asked noun (a year is no count, nor a footnote's mark «[71]»)."""
    for m in DIGITS.finditer(text):
        if re.fullmatch(r"\d{4}", m.group(0)) and re.match(r"\s+(год|г\.)", text[m.end() :]):
            continue
        if text[m.start() - 1 : m.start()] == "[" and text[m.end() : m.end() + 1] == "]":
            continue
        unit = re.search(r"[^\W\d_]+$|%$", m.group(0))  # «30 процентов»: the scale or unit is the counted noun
        if unit and counted is not None and analysis.lemma(unit.group(0).replace("%", "процент").lower()) == counted:
            return short(with_lead(text, m.start(), m.end()))
        clause = re.split(r"[,.;:!?()«»\"]|\s[-–—]\s", text[m.end() :], maxsplit=1)[0]
        words = list(re.finditer(r"[^\W\d_]+", clause))[:NOUN_REACH]
        for w in words:
            if "NOUN" in analysis.tag(w.group(0).lower()):
                if counted is None or analysis.lemma(w.group(0).lower()) == counted:
                    return short(with_lead(text, m.start(), m.end() + w.end()))
                break
    return in_words(counted, text)


def in_words(counted: str | None, text: str) -> str:
    """A numeral word or a share in words with the noun it counts: in_words("соглашение", "Он поддержал принятие
    трех международных соглашений.") == "трех международных соглашений", in_words("население", "Союз
    представляет половину населения планеты.") == "половину населения"; "" when none counts the asked noun."""
    found = list(re.finditer(r"[^\W\d_]+", text))
    for i, m in enumerate(found):
        if numerals.compounds_count(counted, m.group(0)):  # «пятистороннего сотрудничества»: the compound and its noun
            noun = next((w for w in found[i + 1 : i + 1 + NOUN_REACH] if "NOUN" in analysis.tag(w.group(0).lower())), None)
            return short(text[m.start() : noun.end() if noun else m.end()])
        if "NUMR" not in analysis.tag(m.group(0).lower()) and analysis.lemma(m.group(0).lower()) not in numerals.FRACTION_WORDS:
            continue
        for w in found[i + 1 : i + 1 + NOUN_REACH]:
            if analysis.lemma(w.group(0).lower()) in numerals.FRACTION_WORDS:
                continue  # «две трети голосов»: the share's noun, then what it counts
            if "NOUN" in analysis.tag(w.group(0).lower()):
                if (counted is None or analysis.lemma(w.group(0).lower()) == counted) and not re.search(r"[,.;:!?]", text[m.end() : w.start()]):
                    return short(with_lead(text, m.start(), w.end()))
                break
    return ""


# «Которая по счёту встреча?»: the ordinal word (or «6-я») with the noun after it.
IN_ORDER = re.compile(r"\b(котор|как)\w+ по сч[её]ту\b", re.I)


def ordinal(text: str) -> str:
    """The first ordinal with its noun and the adjectives between: ordinal("Это была первая встреча министров.") ==
    "первая встреча"; ordinal("Прошла 6-я встреча.") == "6-я встреча"; ordinal("…к шестой консультативной
    встрече лидеров") == "шестой консультативной встрече"."""
    for m in re.finditer(r"\d{1,3}-?[а-я]{1,3}\b|[^\W\d_]+", text):
        word = m.group(0).lower()
        if numerals.ordinals(word):
            end = pos = m.end()
            for _ in range(3):  # the noun, past up to two adjectives
                after = re.match(r"\s+([^\W\d_]+)", text[pos:])
                kind = analysis.tag(after.group(1).lower()) if after else ()
                pos += after.end() if after else 0
                if "NOUN" in kind:
                    end = pos
                if "ADJF" not in kind:
                    break
            return short(text[m.start() : end])
    return ""


# «Как называется агентство, которое…?», «Какое название носит…?»: the name of what the question calls by a noun.
CALLED = re.compile(r"^\W*(?:как\s+(?:называ\w*|назван\w*)|как(?:ое|ое же)\s+название\s+(?:у|нос\w+)|"
                    r"what\s+is\s+the\s+name\s+of)\s+(?P<rest>.+)", re.I)
# «Сессия какого совета…?», «Какой региональный центр…?»: the interrogative phrase names the kind of thing asked.
WHICH_THING = re.compile(r"^\W*(?:(?:в|во|на|из|с|со|до|к|ко|за|о|об|по|у|от|для|при|через)\s+)?"
                         r"как(?:ой|ая|ое|ого|ую|ом|ому|ие|их|им|ими)\s+(?P<rest>.+)", re.I)
HEAD_REACH = 3  # words from «какой» to the noun it asks about: «какой региональный центр»


def holds(name: str, noun: str | None) -> bool:
    """Whether a name has the noun among its words' lemmas: holds("Совета безопасности", "совет") is True."""
    return noun in {analysis.lemma(w) for w in analysis.words(name)}


def head_noun(rest: str) -> str | None:
    """The lemma of the first noun of a phrase: head_noun("региональный центр должен…") == "центр"."""
    return next((analysis.lemma(w) for w in analysis.words(rest)[:HEAD_REACH] if "NOUN" in analysis.tag(w)), None)


def asked_noun(question: str) -> str | None:
    """The lemma of the noun the question's «какой» asks about: asked_noun("В каком городе открылся центр?") == "город";
    None when its interrogative phrase is no «какой X»."""
    m = WHICH_THING.match(interrogative(question))
    return head_noun(m["rest"]) if m else None


def name_called(question: str, text: str, spans: list[str]) -> str:
    """The one name of the sentence, in quotes or a span the NER found, that holds the noun the question asks the
    name of and that the question does not name: name_called("Как называется агентство, которое создадут?",
    "Создадут Международное агентство по безопасности.", ["Международное агентство по безопасности"]) ==
    "Международное агентство по безопасности"; for «Как называется…» else the one quoted name. «Какой X…?» asks
    for a name only when the sentence has one holding X: name_called("Сессия какого совета прошла?", "Прошла
    сессия Совета безопасности.", ["Совета безопасности"]) == "Совета безопасности". "" when there are several
    or none."""
    called, which = CALLED.match(question), WHICH_THING.match(interrogative(question))
    if not (called or which) or which_person(question):
        return ""
    head = head_noun((called or which)["rest"])
    names = [n for n in dict.fromkeys([q.group(0) for q in QUOTED.finditer(text)] + spans) if unnamed(question, n)]
    holding = {n for n in names if holds(n, head)}
    quoted = {n for n in names if QUOTED.fullmatch(n)} if called else set()
    found = holding or quoted
    return short(found.pop()) if len(found) == 1 else ""


def organisation(question: str, names: list[str]) -> str:
    """The one organisation name (in quotes or an acronym) that the question does not name:
    organisation("В какой организации она?", ["ОДКБ"]) == "ОДКБ"; "" when there are several or none."""
    found = {n for n in names if unnamed(question, n)}
    return short(found.pop()) if len(found) == 1 else ""


# --- The phrase rules (registered in rules.RULES, so each can be switched off for the ablation) -------------

# «Какая страна…?», «Какой город…?»: the place is the subject or object, named without a preposition (places.py).
WHICH_PLACE_WORDS = r"как(?:ая|ой|ую|ое|ие|их) (?:стран|город|столиц|регион|област|государств)\w*"
# What a question opens with says which phrase answers it (a subordinate «когда» later on does not).
OPENS = {
    "date": re.compile(r"^\W*(когда|when|(?:в|на|с|до|к|ко|за) как(?:ой|ом|ую|ого) (?:день|дату|году|год|месяц\w*|числ\w*|"
                       r"года|времени)|как(?:ого|ой|ая) (?:числа|даты|дня|месяца|года|дата)|(?:in |on )?(?:what|which) "
                       r"(?:date|day|year|month))\b", re.I),
    "year": re.compile(r"^\W*((?:в|с|до|к|за) как(?:ом|ого|ому|ой) год\w*|как(?:ого|ой) год\w*|(?:in )?(?:what|which) year)\b", re.I),
    "period": re.compile(r"^\W*(на как(?:ой|ие) (?:срок|период|годы)|for (?:what|which) (?:period|years))\b", re.I),
    "person": re.compile(r"^\W*(кто|who|whose|чь[яеийю]\w*|как (?:зовут|звали)|как(?:ое|ая) (?:имя|фамилия))\b", re.I),
    "place": re.compile(r"^\W*(где|куда|откуда|where|(?:в|из|на) как(?:ом|ой|ую|ое|ого|их) (?:\w+ )?(?:город|стран|столиц|мест|регион)"
                        rf"\w*|{WHICH_PLACE_WORDS}|(?:in )?(?:what|which) (?:city|country|place))\b", re.I),
}


def opens_with(kind: str, question: str) -> bool:
    """Whether the question asks for this kind of answer by its interrogative phrase (asked.interrogative)."""
    return bool(OPENS[kind].match(interrogative(question))) or kind == "person" and which_person(question)


def after_dateline(text: str) -> str:
    """The sentence without its dateline: after_dateline("МУРМАНСК, 2 мар — Фестиваль пройдет 5 марта.") ==
    "Фестиваль пройдет 5 марта."."""
    return text[m.end():] if (m := DATELINE.match(text)) else text


def reported_day(question: str, text: str) -> str:
    """The dateline's day for a question about something done (a verb in the past tense): a report tells what
    happened that day. reported_day("Когда выступил Петров?", "ГРОДНО, 2 мар — Петров выступил на форуме.") ==
    "2 мар"; for «Когда пройдет…?» "" (a report filed on 2 March tells what comes later)."""
    m = DATELINE.match(text)
    if not m or not any("past" in analysis.tag(w) for w in analysis.words(question) if "VERB" in analysis.tag(w)):
        return ""
    return day(m.group(0))


def short_date(a: Asked, e: Evidence) -> str:
    """«Когда пройдет встреча?» is answered «в пятницу» from «Встреча пройдет в пятницу в Астане», «В каком году…»
    «в 2025 году», «На какой период…» «на 2024–2029 годы», «Какого числа…» «9 августа 2025 года»; «Что сказал Петров, когда выступал?» with the sentence.
    A dateline's date («АСТАНА, 3 апр — …») is when the report was filed: the answer only when the sentence names no
    other time and the question asks about the past («Когда выступил Петров?»)."""
    text = after_dateline(e.text)
    if opens_with("year", a.question) or opens_with("period", a.question):
        return year(text)
    return day(text) or time(text) or reported_day(a.question, e.text) if opens_with("date", a.question) else ""


# «На сколько выросло…?» asks by how much: the change «на 30 процентов», not the count «183 конфликта» beside it.
BY_HOW_MUCH = re.compile(r"\bна\s*сколько\b(?!\s+(?:лет|год|дней|месяц|недел|час|минут))", re.I)
CHANGE = re.compile(r"(?:\b(?:почти|около|примерно|более чем|менее чем|свыше)\s+)?\bна\s+\d+(?:[.,]\d+)?\s*(?:%|[^\W\d_]+)")


def short_number(a: Asked, e: Evidence) -> str:
    """«Сколько стран подписали договор?» is answered «5 крупнейших стран» from «В 2024 году 5 крупнейших стран
    подписали договор»; «На сколько выросло число конфликтов?» «почти на 30 процентов» from «Отмечено 183
    конфликта, число которых выросло почти на 30 процентов»."""
    if "number_for_how_many" not in a.leads:
        return ""
    change = CHANGE.search(e.text) if BY_HOW_MUCH.search(a.question) else None
    return change.group(0) if change else number(a.counted, e.text)


def short_ordinal(a: Asked, e: Evidence) -> str:
    """«Которая по счёту это встреча?» is answered «первая встреча» from «Ожидается, что первая встреча министров
    станет площадкой…»."""
    return ordinal(e.text) if IN_ORDER.search(a.question) else ""


def short_person(a: Asked, e: Evidence) -> str:
    """«Кто генеральный секретарь ОДКБ?», «Как зовут генсека?» are answered «генеральный секретарь ОДКБ Иван Петров»
    from «На встрече выступил генеральный секретарь ОДКБ Иван Петров»; «Кто выступил…» (a group or a quote's
    speaker may answer) and «Кого…» with the sentence."""
    people = [(s, t) for s, t, kind in e.entities if kind == "PER"]
    if WHOM.match(a.question):
        return short(object_of(a.question, e.text, people))
    if not opens_with("person", a.question):
        return ""
    return short(person(a.question, e.text, people) or doer(a.question, e.text, people))


def short_description(a: Asked, e: Evidence) -> str:
    """«Кто такой Иван Петров?» is answered «генеральный секретарь ОДКБ Иван Петров» from «В заседании участвовали
    министры, а также генеральный секретарь ОДКБ Иван Петров»: the title, not the list of everyone present."""
    return short(description(a.question, e.text)) if describes_a_name(a.question) else ""


def short_name(a: Asked, e: Evidence) -> str:
    """«Как называется агентство, которое предложили создать?» and «Какое агентство предложили создать?» are
    answered «Международное агентство по безопасности» from «Министр предложил создать Международное агентство по
    безопасности.» (a person's name is short_person's)."""
    return name_called(a.question, e.text, [e.text[s:t] for s, t, kind in e.entities if kind != "PER"])


def short_organisation(a: Asked, e: Evidence) -> str:
    """«В какой организации она работает?» is answered «ОДКБ» from «Она работает в ОДКБ с 2020 года»."""
    if "name_for_which_organisation" not in a.leads:
        return ""
    names = [m.group(0) for m in ORG_NAME.finditer(e.text) if not capitalised_place(m.group(0))]
    # Else a name natasha tagged ORG at index time, which needs neither quotes nor capitals («Шанхайская организация»).
    spans = [e.text[s:t] for s, t, kind in e.entities if kind == "ORG"]
    return organisation(a.question, names) or organisation(a.question, spans) or attached(a.question, e.text, names + spans)


def attached(question: str, text: str, names: list[str]) -> str:
    """Of several names, the one right after a word the question has (not a name): «заместитель председателя
    РОО «Север»» is what «В какой организации она заместитель председателя?» asks for, not «ИА Юг» further on.
    attached("Где она заместитель председателя?", "Заместитель председателя ОО «Север», политолог, в интервью ИА Юг.",
    ["ОО «Север»", "ИА Юг"]) == "ОО «Север»"; a name inside a longer one («ИА» in «ИА Юг») is that one."""
    keys = {analysis.term(w) for w in analysis.words(question) if w not in analysis.STOPWORDS
            and not any(g in analysis.tag(w) for g in NOT_A_TITLE)}
    whole = [n for n in dict.fromkeys(names) if unnamed(question, n) and not any(n != o and n in o for o in names)]
    head = asked_noun(question)
    if any(holds(n, head) for n in whole):
        return ""  # a name holds the noun asked about: short_name's answer
    found = set()
    for n in whole:
        at = max(text.find(n), 0)
        before = re.search(r"([^\W\d_]+)\s+$", text[:at])
        if re.match(r"\s+[A-ZА-ЯЁ]", text[at + len(n) :]):
            continue  # «ИА» of «ИА Юг.Ру»: the kind before a name the NER did not find
        if before and analysis.term(before.group(1).lower()) in keys:
            found.add(n)
    return short(found.pop()) if len(found) == 1 else ""
