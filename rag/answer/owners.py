"""«Чей сайт…?», «Со ссылкой на чью службу…?», "Whose site…?": the owner, named in the genitive right after the
thing owned («сайт Акорды», «пресс-службу главы Казахстана»). Russian names the owner after the noun, so the
answer is that noun and the words that follow it in the genitive, or a name («сайт Tengrinews»)."""
from __future__ import annotations

import re

from rag.answer.asked import Asked, interrogative
from rag.answer.phrase import head_noun, short
from rag.index import analysis
from rag.retrieve.retriever import Evidence

WHOSE = re.compile(r"(?:^|\s)(?:чей|чья|чь[её]|чью|чьи|чьего|чьей|чьему|чьим|чьих|чьими|чь[её]м)\s+(?P<rest>[^?]+)", re.I)
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
OWNER_REACH = 5  # genitive words after the noun: «пресс-службу главы Казахстана», «сайт Министерства иностранных дел»


def owned(word: str, noun: str) -> bool:
    """Whether a word of the sentence is the asked noun, a compound's last part too: owned("пресс-службу", "служба")."""
    return analysis.lemma(word.lower()).split("-")[-1] == noun


def is_owner_word(word: str) -> bool:
    """A word of the owner's name: in the genitive («главы», «Казахстана»), or a name (capitalised or Latin)."""
    return word[:1].isupper() or "gent" in analysis.tag(word.lower()) or "LATN" in analysis.tag(word.lower())


def owner(question: str, text: str) -> str:
    """owner("Со ссылкой на чей сайт сообщили?", "Сообщили со ссылкой на сайт Акорды.") == "сайт Акорды"; "" when
    the question asks no «чей X» or the sentence names no owner right after X («за председательство в ОДКБ»)."""
    m = WHOSE.search(interrogative(question))
    noun = head_noun(m["rest"]) if m else None
    if noun is None:
        return ""
    for w in WORD.finditer(text):
        if not owned(w.group(0), noun):
            continue
        end, pos = w.end(), w.end()
        for _ in range(OWNER_REACH):
            after = re.match(r"\s+(" + WORD.pattern + ")", text[pos:])
            if not after or not is_owner_word(after.group(1)):
                break
            end = pos = pos + after.end()
        if end > w.end():
            return short(text[w.start() : end])
    return ""


def short_owner(a: Asked, e: Evidence) -> str:
    """«Со ссылкой на чей сайт сообщили о сессии?» is answered «сайт Акорды» from «О сессии сообщили со ссылкой на
    сайт Акорды.»"""
    return owner(a.question, e.text)
