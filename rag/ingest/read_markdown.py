"""Markdown → blocks with markdown-it-py: headings as structure, paragraphs and list items unwrapped, tables by row."""
from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from rag.ingest.blocks import HEADING, ITEM, PARAGRAPH, Block, Extracted

PARSER = MarkdownIt("commonmark").enable("table")


def _plain(inline: Token) -> str:
    """An inline token's words as plain text: emphasis and link markup gone, soft line breaks as spaces."""
    parts = []
    for t in inline.children or []:
        if t.type in ("text", "code_inline"):
            parts.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def read_markdown(text: str) -> Extracted:
    """A Markdown file: each heading, paragraph, list item, table row and code block is a block; raw HTML is
    dropped (reported); the first level-1 heading is the title."""
    blocks, dropped, title, row, in_list = [], [], None, [], 0
    tokens = PARSER.parse(text)
    for i, t in enumerate(tokens):
        in_list += {"list_item_open": 1, "list_item_close": -1}.get(t.type, 0)
        if t.type == "inline" and i and tokens[i - 1].type == "heading_open":
            blocks.append(Block(_plain(t), HEADING))
            title = title or (blocks[-1].text if tokens[i - 1].tag == "h1" else None)
        elif t.type == "inline" and i and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(_plain(t))
        elif t.type == "tr_close":
            blocks.append(Block(" | ".join(c for c in row if c), ITEM))
            row = []
        elif t.type == "inline":
            # An item with a list of its own introduces it, as a paragraph does (see read_html).
            nested = [x.type for x in tokens[i + 1 : i + 3]] in (["paragraph_close", "bullet_list_open"], ["paragraph_close", "ordered_list_open"])
            blocks.append(Block(_plain(t), ITEM if in_list and not nested else PARAGRAPH))
        elif t.type in ("fence", "code_block"):
            blocks.append(Block(t.content, ITEM))
        elif t.type in ("html_block",):
            dropped.append((t.content.strip(), "raw HTML in Markdown"))
    return Extracted(blocks, "markdown", "Markdown parsed by markdown-it-py", title=title, dropped=dropped)
