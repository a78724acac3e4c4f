"""Rules for questions answered by what someone says or why: among sentences nearly as good, the one that gives the
reason or says what was said, not one that restates the question or only says what was spoken of («…поделилась
мнением о роли встречи»); and when the winner is such a sentence, it is read with the one after it, where the
reason or the quotation follows; a «Какие…?» is better answered by a sentence that lists several. Three "prefer" and
two "widen" rules of rules.RULES."""
from __future__ import annotations

import re

from rag.answer.asked import Asked, interrogative
from rag.answer.names import CYRILLIC
from rag.retrieve.retriever import Evidence

# Words that give a cause or a purpose: conjunctions and prepositions, not a topic word like «причина».
# («для» alone is mostly «для пакетов», no purpose.)
REASON = re.compile(r"\b(потому|поскольку|так как|ибо|из-за|благодаря|вследствие|в связи с|исходя из|с уч[её]том|чтобы|дабы|для того|ради|"
                    r"с целью|поэтому|because|since|so that|in order|due to)\b", re.I)


# «Для чего нужен quilt?», «Зачем нужен пакет build-essential?»: the purpose of a thing, which a sentence about
# the thing gives («quilt — пакет помогает управлять заплатами») without any word of purpose.
PURPOSE_OF = re.compile(r"^\W*(?:для чего|зачем)\s+(?:нуж|использу|служ|предназнач|применя)\w*\s+(?P<thing>.+?)\W*$", re.I)
THING_AT_START = 6  # words before the thing: «Пакет build-essential — …», «В Debian пакет quilt служит …»


def about_the_thing(question: str, text: str) -> bool:
    """Whether a purpose question's thing (a program or file: its Latin names) stands among the sentence's first
    words: about_the_thing("Для чего нужен quilt?", "quilt — пакет помогает управлять заплатами.") is True,
    for «Затем создадим файл ~/.quiltrc-dpkg…» False."""
    m = PURPOSE_OF.match(question)
    if not m:
        return False
    thing = [w for w in re.findall(r"[\w.+-]+", m["thing"]) if not CYRILLIC.search(w)]  # «этот файл» opens many
    opening = {w.lower().strip(".") for w in re.findall(r"[\w.+-]+", text)[:THING_AT_START]}
    return any(w.lower().strip(".") in opening for w in thing)


def reason_for_why(a: Asked, e: Evidence) -> bool:
    """A preference: «Почему…? / Зачем…?» is better answered by a sentence that gives a reason or a purpose
    («…, так как…», «…, чтобы…», «…из-за…») than by one as close that only restates the question: of
    «Поле используется редко.» and «Поле используется редко, так как его не читает autobuilder.» the second; «Для
    чего нужен quilt?» by a sentence about quilt («quilt — пакет помогает управлять заплатами»)."""
    return "reason_for_why" not in a.kinds or bool(REASON.search(e.text)) or about_the_thing(a.question, e.text)


# «Эксперт рассказала о важности встреч.», «Петров поделился мнением о роли союза.»: a sentence that says what was
# spoken about, not what was said (no «что», no quotation, no colon after the verb).
SPOKE_OF = r"рассказал|поделил|высказал|говорил|упомянул|затронул|коснул"  # verbs that take «о чём»
ANNOUNCES = re.compile(rf"\b(?:{SPOKE_OF})\w*\s+(?:[^\W\d_]+\s+){{0,2}}?(?:о|об|обо)\s", re.I)
SAYS = re.compile(r"\bчто\b|[:\"«»“”]")
ABOUT_WHAT = re.compile(r"\bо\s+ч[её]м\b|\bкакую\s+тему\b|\babout what\b|\bwhat\b.*\babout\?", re.I)


def said_not_announced(a: Asked, e: Evidence) -> bool:
    """A preference: «Какую роль, по мнению Петрова, играют встречи?» is better answered by what Петров said
    («Встречи — важные платформы…») than by a sentence as close that only says he spoke of it («Петров поделился
    мнением о роли встреч.»); «О чём рассказал Петров?» is answered by that one."""
    return bool(ABOUT_WHAT.search(a.question) or not ANNOUNCES.search(e.text) or SAYS.search(e.text))


def reason_after_claim(a: Asked, e: Evidence) -> bool:
    """A widening: a «Почему…?» answered by a sentence with no reason in it is read with the sentence after it, where
    the reason often follows the claim: «Прежних мер уже недостаточно. Время требует новых подходов.»"""
    return "reason_for_why" in a.kinds and not REASON.search(e.text)


SPOKE = re.compile(rf"\b(?:{SPOKE_OF}|отметил|подчеркнул|назвал|обозначил|перечислил|указал)\w*\b", re.I)


def said_after_announcement(a: Asked, e: Evidence) -> bool:
    """A widening: a sentence that only says what someone spoke of («Он отметил и позитивные сдвиги в политике.») is
    read with the sentence after it, which says what they are («Речь о встрече президентов в Женеве.»)."""
    if ABOUT_WHAT.search(a.question) or SAYS.search(e.text):
        return False
    # «…, отметила Мирманова.» credits what the sentence said before it: that is no announcement.
    return any(not re.search(r"[,—–-]\s*$", e.text[: m.start()]) for m in SPOKE.finditer(e.text))


# «control, changelog, copyright и rules»: three or more short items, the last joined by «и»/«или».
ITEM = r"[\w./+-]+(?:\s[\w./+-]+)?"
ENUMERATION = re.compile(rf"{ITEM},\s+(?:{ITEM},\s+)+{ITEM}\s+(?:и|или|and|or)\s+{ITEM}")
WHICH_ONES = re.compile(r"^\W*(?:\w+\s+)?как(?:ие|их|ими)\b|^\W*(?:which|what)\s+\w+s\b", re.I)


def several_for_which_ones(a: Asked, e: Evidence) -> bool:
    """A preference: «Какие файлы обязательны?» asks for several, so of sentences nearly as good the one that lists
    them («Наиболее важные из них: control, changelog, copyright и rules.») goes before one about a single thing
    («Пакет ставит себя в каталог /usr/local.»)."""
    return not WHICH_ONES.search(interrogative(a.question)) or bool(ENUMERATION.search(e.text))
