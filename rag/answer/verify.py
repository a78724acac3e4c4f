"""Every generated sentence checked against the passage it cites before it is shown (issue 16).

A sentence is supported when its cited passages (or, when it cites none or cites wrongly, the one passage that
shares most words with it) contain, lemma by lemma, every claim it makes: each number, number word, month,
named entity, quoted phrase and negation. The model's [n] markers are taken as hints, never as proof.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from razdel import sentenize

from rag.answer.names import NAME_GRAMMEMES
from rag.index import analysis

CITE = re.compile(r"\s*\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")
QUOTED = re.compile(r"«([^»]{2,})»|“([^”]{2,})”|\"([^\"]{2,})\"")
MONTH = re.compile(r"^(январ|феврал|март|апрел|ма[йяею]$|июн|июл|август|сентябр|октябр|ноябр|декабр)")
MARKDOWN = re.compile(r"\*\*|__|^\s*(?:[-*•]|\d+\.)\s+")  # bold, and a list item's bullet or number
NEGATION = frozenset({"не", "нет", "ни", "никогда", "никто", "ничего"})


@dataclass(frozen=True)
class Checked:
    """One generated sentence: the passages (1-based) that support it, or what none of them contains."""

    text: str  # without its [n] markers
    cited: tuple[int, ...]  # the passages the model named
    supported_by: tuple[int, ...] = ()  # empty: unsupported
    missing: tuple[str, ...] = ()  # claims found in no cited passage
    refusal: bool = False  # "the articles do not say": no claim, not shown as one

    @property
    def supported(self) -> bool:
        return bool(self.supported_by)


@dataclass
class Passage:
    """A passage's words as verification needs them, worked out once."""

    text: str
    words: set[str] = field(init=False)  # every word's term, stopwords too (negations, number words)
    seq: list[str] = field(init=False)  # content terms in order (quoted phrases)

    def __post_init__(self):
        self.words = {analysis.term(w) for w in analysis.words(self.text)}
        self.seq = analysis.terms(self.text)


def sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Generated text → (sentence without markers, cited passage numbers); a marker standing after the
    full stop ("… в Астане. [2]") belongs to the sentence before it.

    >>> sentences("Саммит пройдёт в Астане [2]. Он начнётся в июле.")
    [('Саммит пройдёт в Астане.', (2,)), ('Он начнётся в июле.', ())]
    """
    out: list[tuple[str, tuple[int, ...]]] = []
    for s in sentenize(text):
        cited = tuple(int(n) for group in CITE.findall(s.text) for n in re.split(r"\s*[,;]\s*", group))
        bare = re.sub(r"\s+([.!?…,;:])", r"\1", CITE.sub("", MARKDOWN.sub("", s.text))).strip()
        if not re.search(r"\w", bare):
            if out and cited:
                out[-1] = (out[-1][0], out[-1][1] + cited)
            continue
        out.append((bare, cited))
    return out


def claims(sentence: str) -> list[tuple[str, list[str]]]:
    """(what the sentence says, the terms that must occur in a supporting passage), in order: numbers,
    number words and months, named entities, quoted phrases (terms in sequence) and negations.

    >>> [c for c, _ in claims("Погибло 12 человек в Казани, сообщил «Интерфакс», не уточнив имён.")]
    ['12', 'Казани', 'Интерфакс', 'не', '«Интерфакс»']
    """
    found: list[tuple[str, list[str]]] = []
    tokens = re.findall(r"[^\W_]+", sentence)
    for i, w in enumerate(tokens):
        low = w.lower().replace("ё", "е")
        if w.isdigit():
            found.append((w, [w]))
        elif low in NEGATION:
            found.append((w, [low]))
        elif analysis.tagged(low, "NUMR") or MONTH.match(low):
            found.append((w, [analysis.term(low)]))
        elif w[0].isupper() and (i > 0 or analysis.tagged(low, *NAME_GRAMMEMES) or not analysis.is_dictionary_word(low)):
            found.append((w, [analysis.term(low)]))
        elif re.search(r"[a-z]", low) and len(low) > 1:  # a Latin word in a Russian answer is a name
            found.append((w, [analysis.term(low)]))
    for m in QUOTED.finditer(sentence):
        phrase = next(g for g in m.groups() if g)
        if terms := analysis.terms(phrase):
            found.append((m.group(0), terms))
    return found


def _contains(seq: list[str], part: list[str]) -> bool:
    return any(seq[i : i + len(part)] == part for i in range(len(seq) - len(part) + 1))


def missing_from(sentence: str, passages: list[Passage]) -> list[str]:
    """The sentence's claims that none of these passages holds; a sentence sharing no content word with
    them is missing its topic ("(no shared words)")."""
    words = set().union(*(p.words for p in passages))
    content = {t for t in analysis.terms(sentence)}
    missing = [] if content & words or not content else ["(no shared words)"]
    for claim, terms in claims(sentence):
        if len(terms) > 1 or claim.startswith(("«", "“", '"')):
            ok = any(_contains(p.seq, terms) for p in passages)
        else:
            ok = terms[0] in words
        if not ok:
            missing.append(claim)
    return missing


def is_refusal(sentence: str, refusals: list[str]) -> bool:
    low = sentence.lower().replace("ё", "е")
    return any(r in low for r in refusals)


def restates(sentence: str, question: str) -> bool:
    """A sentence whose every content word is the question's answers nothing ("Свидетельствует теракт в
    Подмосковье." to "О чём свидетельствует теракт в Подмосковье?").

    >>> restates("Свидетельствует кровавый теракт.", "О чём свидетельствует кровавый теракт в Подмосковье?")
    True
    """
    own = set(analysis.terms(sentence))
    return bool(question) and own <= set(analysis.terms(question))


def check(text: str, passages: list[str], refusals: list[str], question: str = "") -> list[Checked]:
    """Each sentence of a generated answer checked against the numbered passages (1-based)."""
    prepared = [Passage(p) for p in passages]
    out = []
    for sentence, cited in sentences(text):
        if is_refusal(sentence, refusals):
            out.append(Checked(sentence, cited, refusal=True))
            continue
        valid = tuple(dict.fromkeys(n for n in cited if 1 <= n <= len(prepared)))
        missing = missing_from(sentence, [prepared[n - 1] for n in valid]) if valid else None
        if restates(sentence, question):  # checked after the claims, so a made-up claim is named as such
            missing = missing if valid else missing_from(sentence, prepared)
            out.append(Checked(sentence, cited, (), tuple(missing or ["(restates the question)"])))
            continue
        if missing == []:
            out.append(Checked(sentence, cited, valid))
            continue
        # The model's marker is a hint: the one passage that shares most words with the sentence may hold it all.
        best = attribute(sentence, prepared)
        alone = missing_from(sentence, [prepared[best - 1]]) if best and best not in valid else None
        if alone == []:
            out.append(Checked(sentence, cited, (best,)))
        else:
            out.append(Checked(sentence, cited, (), tuple(missing or alone or ["(no shared words)"])))
    return out


def attribute(sentence: str, passages: list[Passage]) -> int | None:
    """The passage (1-based) sharing most content terms with the sentence; None when none shares any."""
    terms = set(analysis.terms(sentence))
    shared = [len(terms & p.words) for p in passages]
    return shared.index(max(shared)) + 1 if shared and max(shared) else None
