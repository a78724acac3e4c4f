"""Test documents in every format, generated from the seed articles: the seeds as simple news pages (HTML),
a seed as PDF (fpdf2 with a Cyrillic font) and as DOCX (python-docx), and bad files of each kind."""
from __future__ import annotations

import html
import textwrap
from pathlib import Path

from rag.ingest.corpus import load_document

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FORMATS = Path(__file__).resolve().parent / "data" / "formats"
# The Debian guide lives in shared/corpora beside the checkout (on CI too), or beside the folder of worktrees.
MAINT_GUIDE = next((p / "shared" / "corpora" / "maint-guide-ru" for p in ROOT.parents if (p / "shared" / "corpora" / "maint-guide-ru").is_dir()),
                   ROOT.parent / "shared" / "corpora" / "maint-guide-ru")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core
OUTLETS = {"001": "Sputnik Казахстан", "002": "Sputnik Казахстан", "003": "Tengrinews.kz", "004": "Kazinform", "000": "Akorda"}
DATES = {"000": "2024-05-16", "001": "2024-04-03", "002": "2023-06-23", "003": "2021-09-16", "004": "2024-05-16"}


def seed_page(source: str) -> str:
    """A seed article as a news site saves it: menus, a headline, a date in the markup, paragraphs, a footer."""
    doc = load_document(SEEDS / source, SEEDS)
    key = source[:3]
    paragraphs = [doc.text[a:b] for a, b in doc.paragraphs]
    body = paragraphs[1:] if paragraphs[0] == doc.title else paragraphs
    ps = "\n".join(f"<p>{html.escape(p)}</p>" for p in body)
    return f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>{html.escape(doc.title)} | {OUTLETS[key]}</title>
<meta property="og:title" content="{html.escape(doc.title)}">
<meta property="og:site_name" content="{OUTLETS[key]}">
<meta property="article:published_time" content="{DATES[key]}T10:00:00+05:00">
</head><body>
<header><nav><a href="/">Главная</a> <a href="/news">Лента новостей</a> <a href="/sport">Спорт</a></nav></header>
<main><article><h1>{html.escape(doc.title)}</h1>
<div class="article-body">{ps}</div></article></main>
<aside><h3>Читайте также</h3><ul><li><a href="/x">Погода на выходные</a></li><li><a href="/y">Курс валют</a></li></ul></aside>
<footer><p>© {OUTLETS[key]}. Копирование материалов запрещено.</p></footer>
</body></html>"""


def write_seed_pages(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in sorted(SEEDS.glob("*.txt")):
        target = folder / f"{path.stem}.html"
        target.write_text(seed_page(path.name), encoding="utf-8")
        paths.append(target)
    return paths


def write_pdf(target: Path, source: str = "003_83e2e03ee03bef0d.txt", encrypt: bool = False) -> Path:
    """A seed article as a PDF: its title as a heading, the paragraphs wrapped by fpdf2 across pages."""
    from fpdf import FPDF

    doc = load_document(SEEDS / source, SEEDS)
    pdf = FPDF()
    pdf.set_title(doc.title)
    pdf.set_author("Tengrinews.kz")
    pdf.set_creation_date(__import__("datetime").datetime(2021, 9, 16, 14, 37))
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(0, 9, doc.title)
    pdf.ln(4)
    pdf.set_font("DejaVu", size=11)
    for a, b in doc.paragraphs[1:]:
        pdf.multi_cell(0, 6, doc.text[a:b])
        pdf.ln(3)
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.output(str(target))
    return target


def write_blank_pdf(target: Path) -> Path:
    """A 'scanned' PDF: pages without a text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(target))
    return target


def write_docx(target: Path, source: str = "001_6b3bc755e8fe2ed9.txt") -> Path:
    """A seed article as a Word document: a Title, section headings, paragraphs and a small table."""
    import datetime

    import docx

    doc = load_document(SEEDS / source, SEEDS)
    d = docx.Document()
    d.core_properties.title = doc.title
    d.core_properties.author = "Sputnik Казахстан"
    d.core_properties.created = datetime.datetime(2024, 4, 3, 9, 0)
    d.add_heading(doc.title, level=0)
    paragraphs = [doc.text[a:b] for a, b in doc.paragraphs]
    half = len(paragraphs) // 2
    d.add_heading("Выступление президента", level=1)
    for p in paragraphs[:half]:
        d.add_paragraph(p)
    d.add_heading("Ситуация в регионе", level=1)
    for p in paragraphs[half:]:
        d.add_paragraph(p)
    table = d.add_table(rows=2, cols=2)
    for (r, c), value in zip([(0, 0), (0, 1), (1, 0), (1, 1)], ["Встреча", "Место", "Секретари советов безопасности ШОС", "Астана"]):
        table.cell(r, c).text = value
    d.save(str(target))
    return target


def wrap(text: str, width: int = 70) -> str:
    """A text hard-wrapped at `width`, paragraphs separated by blank lines."""
    return "\n\n".join(textwrap.fill(p, width) for p in text.split("\n\n"))
