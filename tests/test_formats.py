"""Documents in every format: the seeds exactly as before, wrapped text and Markdown, the Debian guide's HTML
pages, the seeds as news pages, a PDF and a DOCX made from seed articles, and bad files of each kind."""
import json
import os
import shutil
from pathlib import Path

import pytest
from documents import FORMATS, MAINT_GUIDE, SEEDS, wrap, write_blank_pdf, write_docx, write_pdf, write_seed_pages
from razdel import sentenize

from rag.errors import BadFileError
from rag.ingest.blocks import ITEM, PARAGRAPH
from rag.ingest.corpus import find_files, load_corpus, load_document, read_document
from rag.ingest.read_html import read_html
from rag.ingest.read_markdown import read_markdown
from rag.ingest.read_text import ends_paragraph, hard_wrapped, is_heading, unwrap
from rag.ingest.readers import sniff

pytestmark = pytest.mark.unit
CLEANED = Path(__file__).resolve().parent / "data" / "seeds_cleaned.json"  # saved from main before issue 11


def sections(doc) -> list[tuple[str, str]]:
    return [("H" if span in doc.headings else "P", doc.text[span[0] : span[1]]) for span in doc.paragraphs]


def whole_sentences(doc) -> bool:
    """Every paragraph that is not a heading ends like a sentence (or a list item / table row ends)."""
    return all(kind == "H" or text[-1] in ".!?…:;»\"”)" or len(text.split()) <= 12 for kind, text in sections(doc))


def test_the_seeds_clean_exactly_as_before():
    want = json.loads(CLEANED.read_text(encoding="utf-8"))
    docs, problems = load_corpus(SEEDS)
    assert not problems and sorted(want) == [d.source for d in docs]
    for d in docs:
        assert d.text == want[d.source]["text"]
        assert [list(p) for p in d.paragraphs] == want[d.source]["paragraphs"]
        assert d.format == "text" and d.headings == []  # a paragraph-per-line text has no structure to find


def test_hard_wrapped_text_becomes_paragraphs_with_question_headings():
    doc = load_document(FORMATS / "wrapped.txt", FORMATS)
    assert doc.title == "ПАМЯТКА ЖИЛЬЦУ О ВЫВОЗЕ КРУПНОГАБАРИТНОГО МУСОРА"
    assert (doc.date, doc.date_inferred) == ("2024-03-12", False)
    got = sections(doc)
    assert ("H", "2. Куда выносить старую мебель?") in got
    assert ("P", "Старую мебель выносят на бункерную площадку у дома номер семь по улице Лесной. Площадка открыта "
            "ежедневно с восьми утра до восьми вечера, а по воскресеньям до шести вечера.") in got
    # An indented first line starts a new paragraph though the one before ended at full width.
    assert got[3][1].endswith("за счёт жильца.") and got[4][1].startswith("Мешки с листвой")
    assert [t for k, t in got if k == "H"][1:] == [
        "1. Что считается крупногабаритным мусором?", "2. Куда выносить старую мебель?", "3. Сколько стоит вывоз строительного мусора?"]
    assert whole_sentences(doc)


@pytest.mark.parametrize("source", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_a_seed_wrapped_at_70_columns_comes_back_as_its_paragraphs(tmp_path, source):
    """Dialogue dashes that land at a line start («…сотрудничества", - сказал…», seed 000) stay in the sentence."""
    seed = load_document(SEEDS / source, SEEDS)
    (tmp_path / "w.txt").write_text(wrap(seed.text), encoding="utf-8")
    doc = load_document(tmp_path / "w.txt", tmp_path)
    assert doc.text == seed.text


def test_unwrapping_rules_on_made_up_lines():
    assert hard_wrapped(["a" * 70, "b" * 66, "c" * 69, "d" * 12]) and not hard_wrapped(["a" * 400, "b" * 20, "c" * 300, "d"])
    assert ends_paragraph("Конец абзаца.", "Следующий", 70) and not ends_paragraph("x" * 64, "Следующий", 70)
    assert is_heading("3. Что делать?", True) and not is_heading("Он уехал домой.", True) and not is_heading("Итоги", False)
    blocks = unwrap("Список покупок\n\n- молоко и хлеб для завтрака на всю\n  неделю вперёд\n- сыр\n")
    assert [(b.kind, b.text) for b in blocks] == [("heading", "Список покупок"), ("paragraph", "- молоко и хлеб для завтрака на всю неделю вперёд"), ("paragraph", "- сыр")]


def test_markdown_headings_are_structure_and_wrapped_lines_join():
    doc, extracted, cleaned = read_document(FORMATS / "wrapped.md", FORMATS)
    assert doc.format == "markdown" and doc.title == "Правила пользования велопарковкой"
    got = sections(doc)
    assert ("H", "Как получить ключ?") in got and ("H", "Что нельзя оставлять на парковке?") in got
    assert ("P", "Ключ выдаёт консьерж по паспорту и квитанции об оплате коммунальных услуг. Один ключ выдаётся на "
            "одну квартиру, второй ключ стоит триста рублей.") in got  # emphasis markup gone, lines joined
    assert ("P", "Двор | 24 велосипеда") in got  # a table row, kept at the end of a structured file
    assert "Реклама" not in doc.text and extracted.dropped == [('<div class="banner">Реклама</div>', "raw HTML in Markdown")]
    assert doc.section(doc.text.index("Ключ выдаёт")) == "Как получить ключ?"


@pytest.mark.skipif(not MAINT_GUIDE.is_dir(), reason="../shared/corpora/maint-guide-ru is not beside the checkout")
def test_the_debian_guide_pages_have_titles_headings_and_whole_sentences():
    docs, problems = load_corpus(MAINT_GUIDE)
    assert not problems and len(docs) == 11
    by_name = {d.source: d for d in docs}
    first = by_name["first.ru.html"]
    assert first.title == "Глава 2. Первые шаги" and first.format == "html" and first.language == "ru"
    assert first.outlet is None  # «Хорошее начало — половина дела» is a title, not a site name
    got = sections(first)
    assert ("H", "2.1. Порядок сборки пакета Debian") in got
    # Nested inline markup (<code><em><code>) no longer reorders words.
    assert ("P", "Заметим, что в именах файлов пакетов Debian для разделения пакета и версии используется символ _ "
            "(подчёркивание), а не - (дефис), как в имени оригинального tar-файла.") in got
    assert "Пред." not in first.text and "Содержание" not in first.text
    assert first.text.count("2.2. Выбор программы") == 1  # the table of contents is dropped, the heading kept
    assert first.section(first.text.index("Вы, вероятно, уже выбрали пакет")) == "2.2. Выбор программы"
    for d in docs:
        assert d.headings and d.title.startswith(("Глава", "Приложение", "Руководство")), d.source
        assert d.date is None or d.date >= "2008", d.source  # no changelog date of 1998 taken from the text


def test_the_seeds_as_news_pages_keep_their_text_and_metadata(tmp_path):
    write_seed_pages(tmp_path)
    for page in sorted(tmp_path.glob("*.html")):
        seed = load_document(SEEDS / f"{page.stem}.txt", SEEDS)
        doc = load_document(page, tmp_path)
        assert doc.format == "html" and doc.title == seed.title and doc.language == "ru"
        assert doc.date and not doc.date_inferred and doc.outlet
        seed_paragraphs = {seed.text[a:b] for a, b in seed.paragraphs}
        kept = [doc.text[a:b] for a, b in doc.paragraphs]
        assert all(p in seed_paragraphs for p in kept), page.name
        assert len(kept) >= 0.9 * (len(seed_paragraphs) - 1), page.name
        for furniture in ("Главная", "Читайте также", "Курс валют", "Копирование материалов"):
            assert furniture not in doc.text
    tengri = load_document(tmp_path / "003_83e2e03ee03bef0d.html", tmp_path)
    assert (tengri.date, tengri.outlet) == ("2021-09-16", "Tengrinews.kz")


def test_a_pdf_of_a_seed_has_its_sentences_title_and_date(tmp_path):
    seed = load_document(SEEDS / "003_83e2e03ee03bef0d.txt", SEEDS)
    doc = load_document(write_pdf(tmp_path / "tengri.pdf"), tmp_path)
    assert doc.format == "pdf" and doc.title == seed.title and (doc.date, doc.author) == ("2021-09-16", "Tengrinews.kz")
    assert sections(doc)[0] == ("H", seed.title)
    for s in sentenize(seed.text[seed.paragraphs[1][0] :]):
        assert s.text in doc.text  # every sentence whole: lines rejoined, across page breaks too
    assert whole_sentences(doc)


def test_a_docx_of_a_seed_has_headings_tables_and_metadata(tmp_path):
    seed = load_document(SEEDS / "001_6b3bc755e8fe2ed9.txt", SEEDS)
    doc = load_document(write_docx(tmp_path / "sputnik.docx"), tmp_path)
    assert doc.format == "docx" and doc.title == seed.title and doc.date == "2024-04-03"
    assert [doc.text[a:b] for a, b in doc.headings] == [seed.title, "Выступление президента", "Ситуация в регионе"]
    assert "Секретари советов безопасности ШОС | Астана" in doc.text
    for a, b in seed.paragraphs:
        assert seed.text[a:b] in doc.text
    assert doc.section(doc.text.index(seed.text[seed.paragraphs[-1][0] : seed.paragraphs[-1][1]])) == "Ситуация в регионе"


def test_find_files_picks_up_every_format(tmp_path):
    for name in ("a.txt", "b.md", "c.html", "d.htm", "e.pdf", "f.docx", "g.cfg", "h.png"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in find_files(tmp_path)] == ["a.txt", "b.md", "c.html", "d.htm", "e.pdf", "f.docx"]


def test_a_file_is_read_by_what_it_is_not_what_it_is_named(tmp_path):
    write_seed_pages(tmp_path / "pages")
    shutil.copy(tmp_path / "pages" / "003_83e2e03ee03bef0d.html", tmp_path / "saved-page.txt")
    doc = load_document(tmp_path / "saved-page.txt", tmp_path)
    assert doc.format == "html" and doc.outlet == "Tengrinews.kz" and "<p>" not in doc.text
    assert sniff(b"%PDF-1.7 ...", "x.txt") == "pdf" and sniff(b"# Title", "x.md") == "markdown"


@pytest.mark.parametrize(
    "name, make, reason",
    [
        ("scan.pdf", write_blank_pdf, "scanned PDF without a text layer"),
        ("locked.pdf", lambda p: write_pdf(p, encrypt=True), "encrypted PDF"),
        ("fake.pdf", lambda p: p.write_text("just text"), "named .pdf but is not a PDF"),
        ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04" + b"not a zip" * 20), "broken DOCX"),
        ("broken.pdf", lambda p: p.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 20), "PDF"),
    ],
)
def test_bad_files_get_a_one_line_reason(tmp_path, name, make, reason):
    make(tmp_path / name)
    with pytest.raises(BadFileError, match=reason) as e:
        load_document(tmp_path / name, tmp_path)
    assert str(e.value).startswith(f"{name}: ") and "\n" not in str(e.value)


def test_a_file_over_the_size_limit_is_skipped_with_the_setting_to_change(tmp_path):
    (tmp_path / "ok.txt").write_text("Обычная статья о погоде в городе.", encoding="utf-8")
    with open(tmp_path / "huge.txt", "wb") as f:
        f.truncate(50 * 2**20)  # 50 MB, sparse: nothing is written
    docs, problems = load_corpus(tmp_path, max_bytes=20 * 2**20)
    assert [d.source for d in docs] == ["ok.txt"]
    assert problems == ["huge.txt: 50.0 MB, over the limit of 20 MB (RAG_MAX_FILE_MB): split it into articles or raise the limit"]
    assert os.path.getsize(tmp_path / "huge.txt") == 50 * 2**20


def test_a_wrapped_line_starting_with_a_number_or_abbreviation_continues_its_paragraph():
    text = ("Встреча министров прошла в столице страны, а следующая состоится\n"
            "15 июня в Бишкеке, где соберутся делегации из всех стран региона.\n"
            "Делегации разместят в гостиницах, а пресс-центр откроется в здании\n"
            "г. Бишкека на главной площади, куда пригласят журналистов заранее.\n")
    assert [b.text[:20] for b in unwrap(text)] == ["Встреча министров пр"]


def test_a_chunk_carries_the_heading_of_its_section(tmp_path):
    from rag.config import Settings
    from rag.ingest.chunking import chunk_document, encoding

    doc = load_document(FORMATS / "wrapped.txt", FORMATS)
    enc = encoding("cl100k_base", Settings().cache_dir)
    chunks = chunk_document(doc, enc, 40, 0, lambda text: True)
    under = [c for c in chunks if "бункерную площадку" in c.text and not c.text.startswith("2.")]
    assert under and under[0].heading == "2. Куда выносить старую мебель?"
    assert under[0].search_text == f"{under[0].heading}\n{under[0].text}" and under[0].search_offset == len(under[0].heading) + 1
    assert all(c.heading == "" for c in chunks if c.start in {a for a, _ in doc.headings})  # it holds its heading


def test_credits_that_say_who_did_what_stay_in_the_text():

    body = "<p>" + "Длинный абзац о том, как устроен этот справочник и кому он полезен. " * 6 + "</p>"
    page = (f'<html><head><title>Справочник</title></head><body><div class="authorgroup">'
            f'<div class="author"><h3 class="author">Анна Смирнова</h3><span class="contrib">первая редакция</span></div>'
            f'<div class="author"><h3 class="author">Пётр Иванов</h3><span class="contrib">перевод</span></div></div>{body}</body></html>')
    texts = [b.text for b in read_html(page).blocks]
    assert texts[:2] == ["Анна Смирнова, первая редакция", "Пётр Иванов, перевод"]


def test_a_page_without_a_charset_in_cp1251_reads_as_russian(tmp_path):
    body = "<p>" + "Новый мост через реку откроют весной, сообщили в мэрии города. " * 5 + "</p>"
    (tmp_path / "page.html").write_bytes(f"<html><head><title>Мост</title></head><body>{body}</body></html>".encode("cp1251"))
    assert load_document(tmp_path / "page.html", tmp_path).text.startswith("Новый мост через реку откроют весной")


def test_list_items_table_rows_and_code_are_marked_items_in_every_structured_format(tmp_path):
    """The reader knows what is a list item, a table row or a code block: they are items, not headings, so
    evidence can join them to the sentence that introduces them."""
    import docx

    (tmp_path / "page.html").write_text(
        "<html lang='ru'><head><meta charset='utf-8'><title>Пакеты для сборки</title></head><body><main><article>"
        "<h1>Пакеты для сборки</h1><p>Эта страница перечисляет пакеты, которые нужны для сборки программ из исходного кода.</p>"
        "<p>Поставьте пакеты:</p><ul><li>autoconf</li><li>automake</li></ul><pre>$ make install</pre>"
        "<p>После этого сборка пойдет без ошибок и без лишних вопросов со стороны системы.</p></article></main></body></html>",
        encoding="utf-8")
    (tmp_path / "page.md").write_text("# Пакеты для сборки\n\nПоставьте пакеты:\n\n- autoconf\n- automake\n\n"
                                      "```\n$ make install\n```\n\n| Пакет | Версия |\n|---|---|\n| autoconf | 2.71 |\n", encoding="utf-8")
    d = docx.Document()
    d.add_paragraph("Поставьте пакеты:")
    d.add_paragraph("autoconf", style="List Bullet")
    d.add_paragraph("automake", style="List Bullet")
    d.save(str(tmp_path / "page.docx"))
    for name in ("page.html", "page.md", "page.docx"):
        doc = load_document(tmp_path / name, tmp_path)
        items = [doc.text[a:b] for a, b in doc.items]
        assert items[:2] == ["autoconf", "automake"], (name, items)
        assert "Поставьте пакеты:" not in items and not set(items) & {doc.text[a:b] for a, b in doc.headings}
    assert "$ make install" in items_of(tmp_path / "page.md") and "autoconf | 2.71" in items_of(tmp_path / "page.md")
    assert "$ make install" in items_of(tmp_path / "page.html")


def items_of(path: Path) -> list[str]:
    doc = load_document(path, path.parent)
    return [doc.text[a:b] for a, b in doc.items]


def test_a_list_item_with_a_list_of_its_own_introduces_it():
    """«Сложные» and its kinds: the parent item reads as a paragraph, so its nested items are its answer (the units
    join a paragraph with the items after it), in HTML and in Markdown alike."""
    html = ("<html><body><article><p>Пакеты бывают разные, и вот какие они бывают в этом руководстве:</p><ul><li><p>Простые</p>"
            "<ul><li><p>один</p></li><li><p>два</p></li></ul></li><li><p>Сложные</p><ul><li><p>три</p></li></ul></li></ul>"
            "<p>Конец этого длинного абзаца про пакеты и их виды.</p></article></body></html>")
    markdown = "Виды:\n\n- Простые\n  - один\n  - два\n- Сложные\n  - три\n- Прочие\n"
    for blocks in (read_html(html).blocks, read_markdown(markdown).blocks):
        kinds = {b.text: b.kind for b in blocks}
        assert kinds["Простые"] == kinds["Сложные"] == PARAGRAPH
        assert kinds["один"] == kinds["два"] == kinds["три"] == ITEM
    assert {b.text: b.kind for b in read_markdown(markdown).blocks}["Прочие"] == ITEM  # no list of its own
