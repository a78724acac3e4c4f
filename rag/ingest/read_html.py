"""HTML → blocks and metadata with trafilatura (main text, headings, title, date, site, author, language).

Measured on the Debian guide's 11 pages against their text without the navigation bars: trafilatura kept
97.5 % of the words (99.6 % of what it kept was text), readability-lxml 79 %, jusText 46 %."""
from __future__ import annotations

import re

import lxml.html
import trafilatura
from lxml import etree

from rag.errors import BadFileError
from rag.ingest.blocks import HEADING, ITEM, PARAGRAPH, Block, Extracted

# Inline markup carries no structure for us; trafilatura reorders nested inline elements («<code><em><code>»)
# and so cuts sentences: they are unwrapped to their text first.
INLINE = ("a", "abbr", "acronym", "b", "big", "cite", "code", "em", "i", "kbd", "mark", "q", "samp", "small",
          "span", "strong", "sub", "sup", "tt", "u", "var", "font")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
MARK = "[[rag-heading]]"
UTF8 = lxml.html.HTMLParser(encoding="utf-8")
CREDIT = re.compile(r"author|byline|othercredit|contributor", re.IGNORECASE)


def _prepare(html: str) -> lxml.html.HtmlElement:
    """The page with inline markup unwrapped and each heading turned into a paragraph that starts with MARK:
    trafilatura drops headings it cannot place (all of the Debian guide's DocBook headings), never paragraphs."""
    # The text is decoded already; as bytes in UTF-8 for lxml, which refuses a str with an XML declaration and
    # without a parser encoding would read a page without <meta charset> as Latin-1.
    tree = lxml.html.fromstring(html.encode("utf-8"), parser=UTF8)
    # trafilatura removes bylines (they are metadata, read from the page as it is); a credit that says who did
    # what («Джосип Родин, первоначальный вариант») is text of the document: it becomes a plain paragraph.
    credits = set()
    for el in reversed(list(tree.iter("div", "p", "span"))):  # innermost first: a group of credits stays a group
        if not CREDIT.search(el.get("class") or "") or el.getparent() is None:
            continue
        if len(el) and all(c in credits for c in el):
            del el.attrib["class"]
            continue
        parts = [" ".join("".join(c.itertext()).split()) for c in el] or [" ".join("".join(el.itertext()).split())]
        credit = lxml.html.Element("p")
        credit.text, credit.tail = ", ".join(x for x in parts if x), el.tail
        el.getparent().replace(el, credit)
        credits.add(credit)
    etree.strip_tags(tree, *INLINE)
    for h in list(tree.iter(*HEADINGS)):
        h.attrib.clear()
        h.tag, h.text = "p", f"{MARK} {h.text or ''}"
    return tree


def _words(element) -> str:
    return " ".join("".join(element.itertext()).split())


def _item_text(item) -> str:
    """A list item's own words, without the words of a list nested in it (those are items of their own)."""
    return " ".join(" ".join([item.text or ""] + [_words(c) + " " + (c.tail or "") for c in item if c.tag != "list"]).split())


def _walk(node, blocks: list[Block]) -> None:
    for child in node:
        if child.tag == "head":
            blocks.append(Block(_words(child), HEADING))
        elif child.tag == "list":
            for item in child.iterchildren("item"):
                nested = [x for x in item if x.tag == "list"]
                # An item with a list of its own («Пакеты повышенной сложности» and its kinds) introduces that list
                # as a paragraph does: its items are its answer.
                blocks.append(Block(_item_text(item), PARAGRAPH if nested else ITEM))
                _walk(nested, blocks)
        elif child.tag == "table":
            for row in child.iter("row"):
                blocks.append(Block(" | ".join(w for c in row if (w := _words(c))), ITEM))
        elif child.tag in ("p", "code", "quote"):
            text = _words(child)
            # trafilatura writes <pre> as a quote: a command or a quotation is what the sentence before introduces
            kind = HEADING if text.startswith(MARK) else ITEM if child.tag in ("code", "quote") else PARAGRAPH
            blocks.append(Block(text.removeprefix(MARK).strip(), kind))
        else:
            _walk(child, blocks)


def _blocks(xml: str) -> list[Block]:
    """trafilatura's XML (head, p, list/item, table/row/cell, code, quote) → blocks in reading order."""
    main = etree.fromstring(xml.encode("utf-8")).find("main")
    blocks: list[Block] = []
    _walk(main if main is not None else [], blocks)
    return blocks


def read_html(text: str) -> Extracted:
    """A saved web page: its main text and metadata by trafilatura."""
    try:
        tree = _prepare(text)
    except (etree.ParserError, ValueError) as e:
        raise BadFileError(f"not readable as HTML ({e}): save the page again as HTML") from e
    # Dates only from the page's markup and header, not guessed from its text (the guide's pages name
    # changelog dates from 1998 to 2011 in their text).
    meta = trafilatura.extract_metadata(text, extensive=False)
    xml = trafilatura.extract(tree, output_format="xml", include_tables=True, include_comments=False, favor_recall=True)
    if not xml:
        raise BadFileError("no article text found in the HTML page: is it a menu or an empty page?")
    get = lambda key: (getattr(meta, key, None) or None) if meta else None  # noqa: E731
    # trafilatura makes a site name of a title's part after a dash («Глава 1. Хорошее начало — половина дела»).
    sitename = get("sitename")
    outlet = (sitename if sitename and not (get("title") or "").startswith(sitename) else None) or get("hostname")
    language = get("language")
    if not language and (m := re.search(r'<html[^>]*\blang="([a-zA-Z-]+)"', text[:2000])):
        language = m[1]
    return Extracted(_blocks(xml), "html", "HTML main text by trafilatura", title=get("title"), date=get("date"),
                     author=get("author"), outlet=outlet, language=language)
