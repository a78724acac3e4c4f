"""Short answers that are written, not said: the path, mail address or web address a technical document gives
(«/var/cache/pbuilder/result/», «debian-legal@lists.debian.org») for a question that asks for a directory, a
file, a mailing list or a site by its interrogative phrase. A name in Latin letters with slashes is no word the
Russian rules of phrase.py can read, so this is a rule of its own. The same shape in a question (a file, a command,
an option: «cron.yearly», «--skip-patches») holds the article to it: a near miss names one the article lacks."""
from __future__ import annotations

import re
from functools import lru_cache

from rag.answer.asked import Asked, interrogative
from rag.answer.names import CYRILLIC, RARE
from rag.answer.phrase import MAX_CHARS, asked_noun
from rag.index import analysis
from rag.retrieve.retriever import Evidence

# What a question asks for by the noun its «какой» asks about («в какой каталог», «в какую рассылку», «какой
# список рассылки»), by «где/куда» (only when no place name answers: short_place comes first), or in English.
KINDS = {
    "path": {"каталог", "директория", "папка", "файл", "путь"},
    "mail": {"рассылка", "адрес", "почта", "список рассылки"},
    "url": {"сайт", "адрес", "ссылка", "url"},
}
ENGLISH = {
    "path": re.compile(r"^\W*(?:(?:in|into|to)\s+)?(?:(?:which|what)\s+(?:\w+\s+)?(?:directory|folder|file|path)|where)\b", re.I),
    "mail": re.compile(r"^\W*(?:to\s+)?(?:which|what)\s+(?:\w+\s+)?(?:mailing\s+list|address|e-?mail)\b", re.I),
    "url": re.compile(r"^\W*(?:on\s+)?(?:which|what)\s+(?:\w+\s+)?(?:site|website|url|address)\b", re.I),
}
WHERE = re.compile(r"^\W*(где|куда)\b", re.I)
WRITTEN = {
    # «/usr/share/doc/», «~/.dupload.conf», «debian/changelog»: ASCII up to its first slash and a lowercase letter
    # (not «и/или», «TCP/IP», «5/10»), then a translation's placeholders too («/etc/cron.weekly/пакет»); a sentence's
    # full stop after it is not part of it.
    "path": re.compile(r"(?<![\w/.~@:-])[A-Za-z0-9_.+*~-]*/[A-Za-z0-9_.+*~/а-яё-]*(?<!\.)(?![\w/])"),
    "mail": re.compile(r"[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    "url": re.compile(r"\b(?:https?://|www\.)[^\s«»\"<>()]+(?<![.,;:!?])"),
}
PLURAL = re.compile(r"\bкак(?:ие|их|ими)\b", re.I)  # «В каких файлах…?»: every one the sentence gives


# A name only a technical text writes: a file, a command with «_», an option («cron.yearly», «dh_python2»,
# «--skip-patches», «debian/rules»): Latin letters joined by «.», «_», «/», «-», or an option's leading dashes.
TECHNICAL = re.compile(r"(?<![A-Za-z0-9_-])(?:--?[a-z][a-z0-9]*(?:-[a-z0-9]+)*|[A-Za-z][A-Za-z0-9]*(?:[._/][A-Za-z0-9]+)+)(?![A-Za-z0-9_])")


# A Russian question's lowercase Latin word is a program's or a file's name: «Что делает synaptic?», «fp-compiler»
LATIN_WORD = re.compile(r"(?<![\w.-])[a-z][a-z0-9]{3,}(?:-[a-z0-9]+)*(?![\w.-])|(?<![\w.-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w.-])")
# A file named after a translation's placeholder: «пакет.triggers» is the file's suffix «.triggers».
# A file suffix written alone is a name too: «файл .buildinfo».
PLACEHOLDER_SUFFIX = re.compile(r"(?:(?<=[а-яё])|(?<![\w.~/-]))\.[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*(?![\w.-])")


def technical_names(question: str) -> tuple[str, ...]:
    """technical_names("Куда ставится файл пакет.cron.yearly?") == ("cron.yearly",); in a Russian question a lowercase
    Latin word too (technical_names("Сколько символов отводит synaptic?") == ("synaptic",)), hyphens and all
    («debhelper-compat»), and the suffix a placeholder's file has (technical_names("Зачем файл пакет.triggers?") ==
    (".triggers",)); «3.0» is none."""
    found = [m.group(0) for m in TECHNICAL.finditer(question) if len(m.group(0)) >= 4]
    if CYRILLIC.search(question):
        found += [w for w in LATIN_WORD.findall(question) if len(w) >= 4] + PLACEHOLDER_SUFFIX.findall(question)
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=256)
def lowered(document: str) -> str:
    return document.lower()


def technical_names_in_article(a: Asked, e: Evidence) -> bool:
    """Files, commands and options a question writes must be in the article as written: «Куда ставится
    пакет.cron.yearly?» is not answered by a page that has only «пакет.cron.weekly»."""
    return all(n.lower() in lowered(e.document) for n in technical_names(a.question))


def technical_names_near_answer(a: Asked, e: Evidence) -> bool:
    """A file, command or release the article writes at most twice must stand in the evidence's section, up to the
    paragraph after it: «Как с помощью debmake вернуть удалённый шаблон?» is not answered by a passage on dh_make
    because a note elsewhere names debmake. A path may be named there by its last part, as guides shorten
    «debian/control» to «control» within its section."""
    rare = [n for n in map(str.lower, technical_names(a.question)) if lowered(e.document).count(n) <= RARE]
    near = e.section_text().lower() if rare else ""
    return all(n in near or n.rstrip("/").rpartition("/")[2] in near for n in rare)


def written(kind: str, text: str) -> list[re.Match]:
    """The identifiers of a kind in a sentence: [m.group(0) for m in written("path", "Пакеты попадут в
    /var/cache/result/.")] == ["/var/cache/result/"]; a path of the url's is no path of its own."""
    urls = [m.span() for m in WRITTEN["url"].finditer(text)] if kind != "url" else []
    return [m for m in WRITTEN[kind].finditer(text) if re.search(r"[a-z]", m.group(0))
            and not any(a <= m.start() < b for a, b in urls)]


def named_by(question: str, found: str) -> bool:
    """Whether the question writes the identifier already: «вместо /usr/local/bin» names «/usr/local/bin/»."""
    return found.rstrip("/").lower() in question.lower()


def after_a_question_word(keys: set[str], text: str, at: int) -> bool:
    """Whether the identifier at `at` follows a word of the question (`keys`, its terms), past prepositions:
    «устанавливать в /usr/bin» answers «Куда устанавливать программы?», «страницы в /usr/share/man» does not."""
    for w in reversed(re.findall(r"[^\W\d_]+", text[:at])[-3:]):
        if "PREP" in analysis.tag(w.lower()):
            continue
        return analysis.term(w.lower()) in keys
    return False


def identifier(question: str, text: str) -> str:
    """The one path, mail address or web address of the sentence the question asks for and does not write itself:
    identifier("В какой каталог попадут пакеты?", "Пакеты попадут в каталог /var/cache/result/.") ==
    "/var/cache/result/"; of several, the one right after a word of the question; for «В каких файлах…?» all of
    them; "" when the question asks for none of these or the sentence gives none (or several)."""
    asking = interrogative(question)
    head, plural = asked_noun(question), bool(PLURAL.search(asking))
    if head == "список" and re.search(r"\bсписо?к\w*\s+рассылк", asking, re.I):
        head = "список рассылки"
    for kind, nouns in KINDS.items():
        if not (head in nouns or ENGLISH[kind].match(asking) or kind == "path" and WHERE.match(asking)):
            continue
        found = [m for m in written(kind, text) if not named_by(question, m.group(0))]
        if len(found) > 1 and not plural:
            keys = set(analysis.terms(question))
            found = [m for m in found if after_a_question_word(keys, text, m.start())]
        answer = ", ".join(dict.fromkeys(m.group(0) for m in found))
        if found and (len(found) == 1 or plural) and len(answer) <= MAX_CHARS:
            return answer
    return ""


def short_identifier(a: Asked, e: Evidence) -> str:
    """«В какой каталог pbuilder помещает пакеты?» is answered «/var/cache/pbuilder/result/» from «Собранные пакеты
    будут помещены в каталог /var/cache/pbuilder/result/.»; «В какой список рассылки писать?» with the address."""
    return identifier(a.question, e.text)
