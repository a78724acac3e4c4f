"""Requests that ask what a question asks (rag/data/imperative.toml). The answer rules read a question's kind from
its question words, and a request has none: «Назовите страну, где прошёл саммит» is read as «Какую страну, где
прошёл саммит?» (a place question), «Назовите министра…» as «Как зовут министра…?» (a person in a role),
«Укажите год…» as «В каком году…?», «Расскажите, почему…» as «Почему…?»."""
from __future__ import annotations

import re
import tomllib
from functools import cache

from rag.config import DATA_DIR
from rag.index import analysis

WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# What may stand between the verb and its object: «назовите мне», «укажите, пожалуйста,» (the filler is gone).
ADDRESSEE = re.compile(r"^(?:\s*[,:]?\s*(?:мне|нам|me|us)\b)?[\s,:]*", re.I)
# A question word right after the verb: «Укажите, когда…», «Tell me why…» — the rest is the question as it is.
QUESTION_START = re.compile(r"^(?:в |на |с |из |для |по |о |за )?(?:кто|кого|кому|кем|что|чего|чем|как\w*|котор\w+|где|куда|"
                            r"откуда|когда|почему|зачем|скольк\w+|чей|чья|чьё|чье|чьи|who|whom|whose|what|which|when|"
                            r"where|why|how)\b", re.I)
ABOUT = re.compile(r"^(?:о|об|обо|про)\s", re.I)
ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
MODIFIERS = ("ADJF", "PRTF", "NUMR")  # what may stand before the object's noun: «основные угрозы», «всех участников»
MAX_MODIFIERS = 3
# The accusative «какой» agreeing with an inanimate object: «какую страну», «какие угрозы».
WHICH = {"masc": "какой", "femn": "какую", "neut": "какое", "plur": "какие"}


@cache
def table() -> tuple[frozenset[str], tuple[str, ...], dict[str, str]]:
    """The naming verbs, the telling verbs (longest first: «tell me» before «tell»), and the objects that ask."""
    data = tomllib.loads((DATA_DIR / "imperative.toml").read_text(encoding="utf-8"))
    telling = sorted(data["telling"]["ru"] + data["telling"]["en"], key=len, reverse=True)
    return frozenset(data["naming"]["ru"] + data["naming"]["en"]), tuple(telling), data["objects"]


def as_question(question: str) -> str:
    """as_question("Назовите страну, где прошёл саммит.") == "Какую страну, где прошёл саммит?"; a question that
    is no request is left as asked: as_question("Где прошёл саммит?") == "Где прошёл саммит?"."""
    naming, telling, objects = table()
    text = question.strip()
    told = next((v for v in telling if re.match(rf"{re.escape(v)}\b", text, re.I)), None)
    if told:
        rest = ADDRESSEE.sub("", text[len(told):])
        if ABOUT.match(rest):  # «Расскажите о саммите» asks what the articles say of it
            rest = ("What is known " if told.isascii() else "Что известно ") + rest
        return finish(rest) if rest else question
    m = WORD.match(text)
    if not m or m.group(0).lower() not in naming:
        return question
    rest = ADDRESSEE.sub("", text[m.end():])
    if not rest:
        return question
    if QUESTION_START.match(rest):
        return finish(rest)
    if m.group(0).isascii():  # «Name the country where…» → «Which country where…?»
        return finish("Which " + ARTICLE.sub("", rest))
    return finish(named(rest, objects))


def named(rest: str, objects: dict[str, str]) -> str:
    """What a naming verb's object asks, the object's words kept: named("основные угрозы региону", …) ==
    "какие основные угрозы региону"; named("год подписания", …) == "в каком году подписания"; an object that is no
    accusative noun phrase is left as it is."""
    words = list(WORD.finditer(rest))
    for i, w in enumerate(words[: MAX_MODIFIERS + 1]):
        noun = analysis.reading(w.group(0).lower(), "NOUN", "accs")
        if noun:
            tag, lemma = noun
            if lemma in objects:
                return objects[lemma] + rest[w.end():]
            if "anim" in tag:  # «Назовите министра обороны»: the person in the role; «Назовите участников»: people
                return ("кто из " if "plur" in tag else "как зовут ") + rest
            return WHICH["plur" if "plur" in tag else tag.gender or "masc"] + " " + rest
        if not any(analysis.reading(w.group(0).lower(), pos, "accs") for pos in MODIFIERS):
            break
    return rest


def finish(text: str) -> str:
    """A capital first letter and a question mark: finish("какую страну.") == "Какую страну?"."""
    text = text.strip().rstrip(".!?").rstrip()
    return text[:1].upper() + text[1:] + "?"
