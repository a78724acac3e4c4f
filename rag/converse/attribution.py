"""«Кто об этом заявил?»: a statement quoted in an article is credited to whoever the article says spoke it —
after the quotation («…терроризма", — сказал Токаев.») — when the sentence itself names nobody."""
from __future__ import annotations

import re

from rag.answer.extract import Answer, Citation
from rag.answer.rules import confidence, names_a_person, threshold
from rag.config import Settings
from rag.retrieve.retriever import Evidence

SPEECH = (r"(?:сказал|заявил|отметил|подчеркнул|добавил|сообщил|рассказал|пояснил|напомнил|заключил|говори[лт]|считает|"
          r"упомянул|указал|констатировал|предупредил|уточнил|said|stated)\w*")
ASKS_WHO_SAID = re.compile(rf"^\W*(?:а\s+)?(?:кто|who)\b.*\b{SPEECH}", re.I)
# The closing quotation mark, a dash and the speech verb, then the speaker up to the sentence's end.
CREDIT = re.compile(rf"[\"»”]\s*,?\s*[-–—]\s*{SPEECH}\s+(?P<who>[^.!?\n]{{2,120}})", re.I)
# «…пройдёт в Астане 9 августа. Об этом заявил Президент, выступая…»: the next sentence credits the one before.
POINTING_CREDIT = re.compile(rf"^\s*(?:Об\s+этом|Как\s+об\s+этом)\s+{SPEECH}\s+(?P<who>[^.!?,\n]{{2,120}})", re.I)
REACH = 2000  # characters after the statement in which its quotation must close (one paragraph, not the article)


def asks_who_said(question: str) -> bool:
    """«Кто заявил о том, сколько конфликтов…?», «Who said that…?»"""
    return bool(ASKS_WHO_SAID.search(question))


def credit(e: Evidence) -> tuple[int, int, str] | None:
    """(start, end, speaker) of the attribution that closes the quotation the evidence sentence stands in, or of
    the «Об этом заявил …» sentence right after it.

    >>> doc = '"Мир стал опаснее. Угроза растет", — сказал Токаев. Потом…'
    >>> credit(Evidence("a", 1, 18, "Мир стал опаснее.", 1, 1, 1, 0, False, doc))[2]
    'Токаев'
    """
    after = e.document[e.end:e.end + REACH]
    paragraph = after.split("\n", 1)[0]
    m = POINTING_CREDIT.match(paragraph) or CREDIT.search(paragraph)
    if m is None or not re.search(r"\b[A-ZА-ЯЁ]", who := m["who"].split(",")[0].strip()):  # a speaker is named: «Токаев», «президент РК …»
        return None  # (the speaker ends at a comma: «— сказал Петров, выступая на форуме.»)
    start = e.end + m.start("who")
    return start, start + len(who), who


def credited(question: str, evidence: list[Evidence], coverage: float, settings: Settings) -> Answer | None:
    """The speaker of the best confident statement that needs one, cited with the statement; None if none."""
    for e in evidence:
        if confidence(question, e, coverage, settings) < threshold(question, settings):
            break
        if names_a_person(e.text) or (found := credit(e)) is None:
            continue
        start, end, who = found  # the answer is who said it; the citations quote the statement, then the credit
        return Answer(question, who, False, [
            Citation(e.source, e.text, e.start, e.end, round(e.score, 4)), Citation(e.source, who, start, end, round(e.score, 4)),
        ])
    return None
