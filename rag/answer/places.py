"""Places as short answers: «Где пройдет саммит?» → «в Астане», «Какая страна предложила план?» → «Молдова», «В каком
городе…?» → «в городе Бельцы» (of several places, the one the sentence calls a city), «Какая страна поддержала…?» →
«российской стороне». The citation still quotes the whole sentence."""
from __future__ import annotations

import re

from rag.answer.asked import Asked
from rag.answer.names import place_adjectives
from rag.answer.people import CAPITALISED_WORD, unnamed
from rag.answer.phrase import WHICH_PLACE_WORDS, asked_noun, holds, opens_with, short
from rag.index import analysis
from rag.retrieve.retriever import Evidence

# «в Астане», «в городе Алматы»: a preposition, maybe a word for the kind of place, then the name.
PLACE = re.compile(r"(?<![\w-])(?:в|во|на|из|с|со|к|ко|под|около|у)\s+(?:(?:город\w*|столиц\w*|стран\w*|област\w*|регион\w*)\s+)?"
                   r"([А-ЯЁ][а-яё]+(?:[-\s][А-ЯЁ][а-яё]+)*)")
# An unknown capitalised word with an adjective's case ending is an adjective of a place, not its name: «к
# Астанинскому саммиту» names no place to answer «Где…?» with.
ADJECTIVE_ENDING = re.compile(r"(?:ому|ему|ого|его|ыми|ими)$")
WHICH_PLACE = re.compile(rf"^\W*{WHICH_PLACE_WORDS}\b", re.I)
# Diplomatic news names a country by its side: «российская сторона», «поддержку таджикской стороны».
SIDE = re.compile(r"\b([а-яё]+[сц]к(?:ая|ой|ую|ие|их|им|ими))\s+сторон(?:а|ы|е|у|ой|ам|ами|ах)?\b")


def place(question: str, text: str) -> str:
    """The one place after a preposition that the question does not name: place("Где пройдет саммит?", "Саммит пройдет в
    Астане летом.") == "в Астане"; for «Какая страна…?» the one place name: place("Какая страна предложила план?",
    "План предложила Молдова.") == "Молдова"; of several, the one the sentence calls the kind of place asked for («в каком
    городе» → «в городе Бельцы», not «в Молдове»); "" when there are several or none."""
    if WHICH_PLACE.match(question):  # the name as a dictionary writes it: «вовлечению Афганистана» → «Афганистан»
        found = {analysis.lemma(m.group(0).lower()).capitalize() if "-" not in m.group(0) else m.group(0)
                 for m in CAPITALISED_WORD.finditer(text)
                 if "Geox" in analysis.tag(m.group(0).lower()) and unnamed(question, m.group(0))}
        found |= {m.group(0) for m in SIDE.finditer(text) if place_adjectives(m.group(1)) and unnamed(question, m.group(1))}
    else:
        found = {m.group(0) for m in PLACE.finditer(text)
                 if unnamed(question, m.group(1)) and all(
                     "Geox" in analysis.tag(w) or not analysis.is_dictionary_word(w) and not ADJECTIVE_ENDING.search(w)
                     for w in analysis.words(m.group(1)))}
        kind = asked_noun(question)  # «в каком городе»: of «в городе Алматы» and «в Афганистане», the city
        found = {f for f in found if holds(f, kind)} or found
    return short(found.pop()) if len(found) == 1 else ""


def short_place(a: Asked, e: Evidence) -> str:
    """«Где пройдет саммит?» is answered «в Астане» from «Саммит пройдет в Астане летом»."""
    return place(a.question, e.text) if opens_with("place", a.question) else ""
