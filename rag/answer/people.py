"""People in a sentence and the questions that ask for one: names (pymorphy3's reading), the title before a
name, which of several people a question means, and who a named person is (phrase.py cuts the short answer)."""
from __future__ import annotations

import re
import tomllib
from functools import cache, lru_cache

from rag.answer.names import CYRILLIC, skeleton
from rag.config import DATA_DIR
from rag.index import analysis

NAME_TAGS = ("Name", "Surn", "Patr")
# Russian articles write people's names in Cyrillic: a Latin word is a brand or a site («Sputnik», «Instagram»).
CAPITALISED_WORD = re.compile(r"(?<![\w-])(?:[А-ЯЁ]\.|[А-ЯЁ][а-яё]+(?:-[А-ЯЁ]?[а-яё]+)*)")
ROLE_REACH = 5  # words of a title before a name: «генеральный секретарь ОДКБ Иван Петров»


def is_name_word(word: str, first: bool = False) -> bool:
    """A capitalised word that is a first name, surname or patronymic, an initial, or a word the dictionary
    does not know, and no place: is_name_word("Петров") is True, is_name_word("Совет") and is_name_word("Женеве")
    False. A sentence's first word is capitalised anyway: it must be a name or unknown to the dictionary («Готовы…» is not)."""
    if word.endswith("."):
        return True  # an initial: «К. Токаева»
    parts = word.lower().split("-")
    if any("Geox" in analysis.tag(p) for p in parts):
        return False
    if first:
        return all(any(t in analysis.tag(p) for t in NAME_TAGS) or not analysis.is_dictionary_word(p) for p in parts)
    return all(any(t in analysis.tag(p) for t in NAME_TAGS) or not analysis.is_dictionary_word(p) or analysis.SURNAME.match(p)
               for p in parts)


@lru_cache(maxsize=1024)
def question_keys(question: str) -> frozenset[str]:
    """The question's terms and its words' transliterated consonants (an English question names «Токаев» Tokayev)."""
    return frozenset(analysis.terms(question)) | {skeleton(w) for w in analysis.words(question) if len(w) > 3}


def unnamed(question: str, span: str) -> bool:
    """A span the question does not name already: some word of it is neither a term of the question nor, across
    scripts, one of its words: unnamed("Who met Tokayev?", "Токаев") is False."""
    keys = question_keys(question)
    return any(analysis.term(w) not in keys and skeleton(w) not in keys for w in analysis.words(span))


def named(question: str, person_name: str) -> bool:
    """Whether the question names this person, by any name of theirs: named("Что сказал Токаев?", "Касым-Жомарт
    Токаев") is True (unnamed() wants every word named: right for a place, not for a person's full name)."""
    keys = question_keys(question)
    return any(analysis.term(w) in keys or skeleton(w) in keys for w in analysis.words(person_name) if len(w) > 2)


def persons(text: str) -> list[tuple[int, int]]:
    """Spans of consecutive name words: persons("Министр Иван Петров встретил Анну Смирнову") == [(8, 19), (29, 42)]."""
    spans: list[list[int]] = []
    for m in CAPITALISED_WORD.finditer(text):
        if not is_name_word(m.group(0), first=not text[: m.start()].strip()) or m.start() == 0 and m.group(0).endswith("."):
            continue
        if spans and text[spans[-1][1] : m.start()].strip() == "":
            spans[-1][1] = m.end()
        else:
            spans.append([m.start(), m.end()])
    return [(a, b) for a, b in spans if " " in text[a:b] or not text[a:b].endswith(".")
            if any(w.endswith(".") or not surname_shape_only(w) for w in text[a:b].split())]


def surname_shape_only(word: str) -> bool:
    """A dictionary word read as a surname only by its ending: «Советов» (of «совет»), but «Токаев» too, so it
    names a person only beside a first name or an initial («Касым-Жомарт Токаев», «К. Токаева»)."""
    parts = word.lower().split("-")
    return all(analysis.is_dictionary_word(p) and not any(t in analysis.tag(p) for t in NAME_TAGS) for p in parts)


def role_before(text: str, start: int) -> int:
    """Where the title right before a name begins: lowercase nouns and adjectives, acronyms and place names
    («президент РК», «генеральный секретарь ОДКБ»), up to a verb, a preposition or punctuation. A title names a
    person: it opens with a noun for one (pymorphy3's anim) or the adjectives before it, so «В заключении интервью
    Ассоль Мирманова» has none."""
    words = []
    for m in reversed(list(re.finditer(r"[^\W\d_]+(?:-[^\W\d_]+)*", text[:start]))[-ROLE_REACH:]):  # «премьер-министр»
        if text[m.end() : words[-1].start() if words else start].strip():
            break  # punctuation between
        tag = analysis.tag(m.group(0).lower())
        common = ("NOUN" in tag or "ADJF" in tag) and not any(t in tag for t in NAME_TAGS)  # «Президент», «генеральный»
        if not (m.group(0).isupper() and len(m.group(0)) > 1 or "Geox" in tag or common):
            break
        words.append(m)
    words.reverse()  # in reading order; the title runs from the first animate noun, with the adjectives right before it
    first = next((i for i, m in enumerate(words) if {"NOUN", "anim"} in analysis.tag(m.group(0).lower())), None)
    if first is None:
        return start
    while first > 0 and "ADJF" in analysis.tag(words[first - 1].group(0).lower()):
        first -= 1
    return words[first].start()


# A copula, or a verb of holding a post («Кто возглавлял правительство?», «Кто занимает пост министра?»): the
# question asks for the name that goes with a title, as «Кто президент Беларуси?» does.
COPULAS = frozenset({"быть", "являться", "стать", "звать", "становиться", "занимать", "возглавлять", "руководить"})
NOT_A_TITLE = ("Name", "Surn", "Patr", "Geox", "Orgn", "Abbr")


def title_nouns(question: str) -> set[str]:
    """The terms of the common nouns a question names a person by: title_nouns("Как зовут министра финансов Молдовы?")
    == {"министр", "финанс"}, the stems of «министра» and «финансов» (not the place)."""
    return {analysis.term(w) for w in analysis.words(question) if w not in analysis.STOPWORDS
            and "NOUN" in analysis.tag(w) and not any(g in analysis.tag(w) for g in NOT_A_TITLE)}


# «…президента Кыргызстана, который участвовал во встрече?»: a relative clause narrows the person, its verb is not asked.
RELATIVE = re.compile(r",?\s+(?:котор|чей|чья|чьё|чьи|who|which)\w*\b", re.I)


def asks_a_verb(question: str) -> bool:
    """A question with a verb other than a copula («Кто принял секретарей?») may be answered by a group or by
    the speaker of a quote; one without («Кто президент Беларуси?», «Как зовут министра?») asks for a name."""
    return any(("VERB" in analysis.tag(w) or "INFN" in analysis.tag(w)) and analysis.lemma(w) not in COPULAS
               for w in analysis.words(RELATIVE.split(question, maxsplit=1)[0]))


DESCRIBE = re.compile(r"^\W*(кто так(ой|ая|ое|ие)|who is|who's|who are)\s+", re.I)  # asks who someone is: the sentence says


def describes_a_name(question: str) -> bool:
    """«Кто такой Иван Петров?», "Who is Ivan Petrov?": a name, not a title («Кто такой генсек ОДКБ?», "Who is the
    president of Tajikistan?" ask for the name that goes with the title)."""
    m = DESCRIBE.match(question)
    return bool(m) and all(w[:1].isupper() for w in re.findall(r"[^\W\d_]+", question[m.end():]))


def shared_title(question: str, asked: set[str], text: str, start: int, end: int) -> set[str]:
    """The terms of a person's title (and of a parenthesis right after the name, «Путин (в режиме видео-связи)») that
    the question asks by, or names across scripts: «президент Кыргызстана» shares {"президент", "кыргызста"} with
    "Who is the president of Kyrgyzstan?" (its title translated, the place by its consonants)."""
    after = re.match(r"\s*\([^)]{1,80}\)", text[end:])
    keys = question_keys(question)
    return {analysis.term(w) for w in analysis.words(text[start:end] + (after.group(0) if after else ""))
            if w not in analysis.STOPWORDS and (analysis.term(w) in asked or len(w) > 3 and skeleton(w) in keys)}


@cache
def _english_titles() -> list[tuple[re.Pattern, frozenset[str]]]:
    table = tomllib.loads((DATA_DIR / "titles.toml").read_text(encoding="utf-8"))["english"]
    return [(re.compile(rf"\b{re.escape(en)}\b", re.I), frozenset(analysis.terms(ru)))
            for en, ru in sorted(table.items(), key=lambda kv: -len(kv[0]))]


def english_titles(question: str) -> set[str]:
    """The Russian terms of the titles an English question names (rag/data/titles.toml), the longest phrase first:
    english_titles("Who is the prime minister of Armenia?") == {"премьер", "министр"}; none for a Russian question."""
    if CYRILLIC.search(question):
        return set()
    found, rest = set(), question
    for pattern, terms in _english_titles():
        if pattern.search(rest):
            found |= terms
            rest = pattern.sub(" ", rest)
    return found


def person(question: str, text: str, people: list[tuple[int, int]] = ()) -> str:
    """For a question without a verb, the one person of the sentence the question does not name, with the title
    before the name: person("Кто генсек?", "Об этом заявил генеральный секретарь ОДКБ Иван Петров.") == "генеральный секретарь ОДКБ Иван Петров";
    of several, the one whose title shares most words with the question («Кто президент Беларуси?» in a list of
    presidents); else "" (the sentence answers)."""
    which = which_person(question)  # «Какой лидер подключался…?» has a verb, but names the kind of person it asks for
    if asks_a_verb(question) and not which or describes_a_name(question):
        return ""
    spans = persons(text)
    spans += [(a, b) for a, b in people if not any(a < y and x < b for x, y in spans)]  # the NER's «Ван И» too
    found = {text[a:b]: (role_before(text, a), a, b) for a, b in spans if not named(question, text[a:b])}
    nouns = title_nouns(question) | english_titles(question)
    asked = set(analysis.terms(question)) | nouns
    shared = {name: shared_title(question, asked, text, r, b) for name, (r, a, b) in found.items()}
    if not which and nouns:  # «Как зовут министра…?» is not answered by «президент Иван Петров»
        found = {name: span for name, span in found.items() if shared[name] & nouns}
    if len(found) > 1:
        best = max(len(shared[name]) for name in found)
        found = {name: span for name, span in found.items() if len(shared[name]) == best} if best else {}
    if len(found) != 1:
        return ""
    r, _, b = next(iter(found.values()))
    return text[r:b]


# «Кто заявил…?», not «Кого принял…?» nor «Кому…?»: the person asked for is the one who did it, the verb's subject.
WHO_DID = re.compile(r"^\W*(кто|who)\b", re.I)


def doer(question: str, text: str, people: list[tuple[int, int]]) -> str:
    """For «Кто <verb>…?», the one person of the sentence the question does not name, with the title before the
    name; `people` are the sentence's PER spans, found by the NER at index time: doer("Кто заявил об угрозе?",
    "Об угрозе заявил министр Иван Петров.", [(25, 36)]) == "министр Иван Петров"; "" when the sentence names
    none or several (then a group may have done it, or the sentence must say which: it answers)."""
    if not WHO_DID.match(question) or not asks_a_verb(question) or done_by_many(question, text):
        return ""
    found = {text[a:b]: (a, b) for a, b in people if not named(question, text[a:b])}
    if len(found) > 1:  # «Петров предложил план, Смирнова его поддержала»: the one who does the question's verb
        verbs = [m for m in re.finditer(r"[^\W\d_]+", text) if "VERB" in analysis.tag(m.group(0).lower())
                 and analysis.lemma(m.group(0).lower()) in question_verbs(question)]
        found = {name: span for name, span in found.items() if subject_of(text, verbs, *span)}
    if len(found) != 1:
        return ""
    a, b = next(iter(found.values()))
    return text[role_before(text, a) : b]


SUBJECT_GAP = 1  # words between a subject and its verb: «Петров также предложил», «предложил вчера министр Петров»


OBLIQUE = ("gent", "datv", "accs", "ablt", "loct")


def oblique(word: str) -> bool:
    """A name the dictionary reads in a case no subject takes: «Ивана», «Рахмона», «Анну»; an unknown surname
    («Токаев», read as a plural genitive of a common noun) is no evidence either way."""
    tag = analysis.tag(word)
    return any(t in tag for t in NAME_TAGS) and any(c in tag for c in OBLIQUE)


def subject_of(text: str, verbs: list[re.Match], a: int, b: int) -> bool:
    """Whether the name at [a, b) is, by its place and case, the subject of one of `verbs` (the question's verb in the sentence):
    right before the verb or right after it (with its title), and no name of it in an oblique case. For «Кто предложил план?» in
    «Петров предложил план, а Смирнова поддержала его» Петров is; in «Министр поблагодарил Ивана Петрова» nobody is."""
    if any(oblique(w) for w in analysis.words(text[a:b])):
        return False
    for m in verbs:  # the question's verb where the sentence has it
        gap = text[b : m.start()] if b <= m.start() else text[m.end() : role_before(text, a)] if a >= m.end() else "-"
        if len(gap.split()) <= SUBJECT_GAP and not re.search(r"[^\w\s]", gap):
            return True
    return False


def question_verbs(question: str) -> set[str]:
    """Lemmas of the question's verbs other than copulas: question_verbs("Кого поблагодарил министр?") == {"поблагодарить"}."""
    return {analysis.lemma(w) for w in analysis.words(question) if "VERB" in analysis.tag(w)} - COPULAS


def done_by_many(question: str, text: str) -> bool:
    """The sentence puts the question's verb in the plural: «На встрече выступили министры, — сказал Петров» says
    a group did what «Кто выступил…?» asks, so the one person it names is not the answer."""
    verbs = question_verbs(question)
    same = [w for w in analysis.words(text) if "VERB" in analysis.tag(w) and analysis.lemma(w) in verbs]
    return bool(same) and all("plur" in analysis.tag(w) for w in same)


WHOM = re.compile(r"^\W*(кого|кому|whom)\b", re.I)  # the person asked for is the verb's object
OBJECT_REACH = 4  # words from the verb to the name: «поблагодарил президента Таджикистана Эмомали Рахмона»


def object_of(question: str, text: str, people: list[tuple[int, int]]) -> str:
    """For «Кого/Кому <verb>…?», the person the sentence names right after the question's verb, with the title between:
    object_of("Кого поблагодарил министр?", "Министр поблагодарил Ивана Петрова за работу.", [(21, 34)]) ==
    "Ивана Петрова"; "" when no name follows the verb (a group may be the object: the sentence answers)."""
    if not WHOM.match(question):
        return ""
    verbs = question_verbs(question)
    for m in re.finditer(r"[^\W\d_]+", text):
        if "VERB" not in analysis.tag(m.group(0).lower()) or analysis.lemma(m.group(0).lower()) not in verbs:
            continue
        for a, b in people:
            between = text[m.end() : a]
            near = a >= m.end() and len(between.split()) <= OBJECT_REACH and not re.search(r"[,.;:!?«»\"]", between)
            if near and not named(question, text[a:b]):
                return text[max(m.end(), role_before(text, a)) : b].strip()
    return ""


# «Иван Петров, генеральный секретарь ОДКБ, …»: a title after the name, up to the next punctuation.
APPOSITION = re.compile(r",\s+([а-яё][^,.;:()«»\"]{2,60}?)\s*(?:[,.;:)]|\s[-–—]\s|$)")


def description(question: str, text: str) -> str:
    """Who the person the question names is, by the title beside the name: description("Кто такой Иван Петров?",
    "Выступил генеральный секретарь ОДКБ Иван Петров.") == "генеральный секретарь ОДКБ Иван Петров", and from
    «Иван Петров, министр финансов, заявил…» "Иван Петров, министр финансов"; "" when the sentence gives no title."""
    for a, b in persons(text):
        if unnamed(question, text[a:b]):
            continue  # another person
        if (r := role_before(text, a)) < a:
            return text[r:b]
        m = APPOSITION.match(text, b)
        if m and any(t in analysis.tag(analysis.words(m.group(1))[0]) for t in ("NOUN", "ADJF")):
            return f"{text[a:b]}, {m.group(1)}"
    return ""


# Not «каким членом…» (instrumental: in what capacity, a description) nor «о каком…».
WHICH = re.compile(r"^\W*(?:(?:у|с|к|от|для|при)\s+)?как(?:ой|ая|ого|ому|ую|ие|их)\s+(\w+)", re.I)


def which_person(question: str) -> bool:
    """«Какой лидер…?», «Какого министра…?»: an animate noun after «какой» (pymorphy3's reading) asks for a person."""
    m = WHICH.match(question)
    return bool(m) and {"NOUN", "anim"} in analysis.tag(m.group(1).lower())
