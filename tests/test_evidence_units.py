"""Evidence units: a sentence that points back («это…», «подобные подходы») is scored and quoted with the sentence
before it. Made-up sentences for the pattern; the seeds for the quote a reader gets."""
import pytest

from rag.retrieve.units import ANAPHOR, LIST_INTRO, SECTION_ENTRY, SENTENCE_END


@pytest.mark.parametrize("sentence", [
    "Это наивысший показатель за десять лет.",  # a demonstrative opening the sentence
    "Да, это наша общая задача.",
    "Потенциал этого центра не раскрыт.",
    "Здесь мы видим подводные камни, отметил министр.",  # «здесь», «тут»: the place the sentence before named
    "Но тут есть сложности.",
    "Министр заявил, что страна отвергает подобные попытки.",  # a word that only points back, anywhere
    "Он отметил, что указанные меры помогут бюджету.",
    "Как подчеркнул министр финансов, это ясный сигнал рынку.",  # a demonstrative after a credit
    "По словам министра, этот план рассчитан на пять лет.",
])
def test_a_sentence_that_points_back_is_joined_to_the_one_before(sentence):
    assert ANAPHOR.match(sentence)


@pytest.mark.parametrize("sentence", [
    "Министр заявил, что бюджет вырастет на пять процентов.",
    "Программа принята в 2020 году и рассчитана на пять лет.",
    "Министр заявил, что это важно для бюджета.",  # «это» deep in a sentence is usually its own subject
    "Министр заявил, что здесь будет построен завод.",
    "Как подчеркнул министр финансов, бюджет вырастет, и это важно.",  # after a credit, too deep to point back
])
def test_a_sentence_that_stands_alone_is_quoted_alone(sentence):
    assert not ANAPHOR.match(sentence)


def test_the_quote_carries_what_the_word_points_back_to(seed_rag):
    answer = seed_rag.ask("Какие подходы и попытки Токаев категорически отвергает?")
    assert not answer.abstained and "разделить" in answer.answer and "подобные подходы" in answer.answer, answer


GUIDE = """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Сборка пакетов вручную</title></head>
<body><main><article><h1>Сборка пакетов вручную</h1>
<p>Эта страница рассказывает, как собрать программу из исходного кода без помощи мастеров и готовых сценариев.</p>
<p>Для работы с генератором сценариев сборки поставьте такие пакеты:</p>
<ul><li>autoconf</li><li>automake</li><li>libtool</li></ul>
<p>Остальные пакеты поставятся сами, когда вы начнете сборку командой make в каталоге программы.</p>
<p>Если сборка остановилась с ошибкой компилятора, то</p>
<ol><li>прочитайте журнал сборки в файле build.log;</li><li>удалите каталог obj и запустите make clean.</li></ol>
</article></main></body></html>"""


def first_quote(rag, question: str) -> str:
    answer = rag.ask(question)
    assert not answer.abstained, answer
    return answer.citations[0].quote


@pytest.fixture(scope="module")
def guide_rag(tmp_path_factory, seed_settings, embedder):
    from tests.conftest import seeds_plus

    return seeds_plus(tmp_path_factory, seed_settings, embedder, "guide.html", GUIDE)


def test_a_list_is_quoted_with_the_sentence_that_introduces_it(guide_rag):
    quote = first_quote(guide_rag, "Какие пакеты поставить для работы с генератором сценариев сборки?")
    assert quote.startswith("Для работы с генератором") and all(p in quote for p in ("autoconf", "automake", "libtool")), quote
    assert "Остальные" not in quote  # the list ends where a sentence begins


def test_where_the_reader_marks_a_list_the_paragraph_before_it_introduces_it_without_a_colon(guide_rag):
    quote = first_quote(guide_rag, "Что делать, если сборка остановилась с ошибкой компилятора?")
    assert "build.log" in quote and "make clean" in quote, quote


NOTES = """Заметки садовода

Совет садоводов поселка Липки обсудил подготовку участков к зиме на собрании в субботу.

Председатель совета перечислил работы, которые нужно закончить до первых заморозков:

укрыть розы лапником

обрезать малину под корень

слить воду из летнего водопровода

Следующее собрание пройдет весной, когда сойдет снег и подсохнут дороги."""


def test_in_plain_text_a_colon_introduces_the_short_lines_after_it(tmp_path_factory, seed_settings, embedder):
    from tests.conftest import seeds_plus

    notes_rag = seeds_plus(tmp_path_factory, seed_settings, embedder, "notes.txt", NOTES)
    quote = first_quote(notes_rag, "Какие работы нужно закончить садоводам поселка Липки до заморозков?")
    assert all(w in quote for w in ("розы", "малину", "водопровода")) and "весной" not in quote, quote


def test_a_closing_quote_ends_a_sentence_only_after_its_stop():
    """A paragraph-per-line text's subheading «Борьба с "тремя силами зла"» has no stop: a heading, never the answer."""
    assert not SENTENCE_END.search('Борьба с "тремя силами зла"') and not SENTENCE_END.search("Итоги «Форума»")
    assert SENTENCE_END.search('Он сказал: «Всё решено».') and SENTENCE_END.search('Они противостоят "силам зла".')
    assert SENTENCE_END.search("Встреча прошла.") and SENTENCE_END.search("Кто победил?")


def test_a_list_intro_may_carry_a_footnote_mark_after_its_colon():
    assert LIST_INTRO.search("Путь изменяется следующим образом:[99]") and LIST_INTRO.search("Поставьте пакеты:")
    assert not LIST_INTRO.search("Путь изменяется [99].") and not LIST_INTRO.search("Время: 10:30 утра")


def test_a_section_number_written_in_a_structured_item_is_a_table_of_contents_entry():
    """HTML and Markdown number their list items outside the text: «4. Обязательные файлы» names a section."""
    assert SECTION_ENTRY.match("4. Обязательные файлы в каталоге debian") and SECTION_ENTRY.match("5.1. Файл README.Debian")
    assert SECTION_ENTRY.match("A.3. Мультиархитектурность")
    assert not SECTION_ENTRY.match("debhelper 9 или новее") and not SENTENCE_END.search("5.1. Файл README.Debian")


def test_a_chunk_that_adds_no_sentence_of_its_own_takes_no_place_among_the_top_chunks(seed_rag):
    """Chunks overlap: an article's title chunk repeats its lead sentence and adds only the title (a heading). It must
    not take one of the top chunks' places, or the passage that answers is crowded out."""
    gathered = seed_rag.gather("Кто участвовал во встрече в узком составе на сессии ОДКБ в Душанбе?")
    assert len({e.hit_rank for e in gathered.evidence if not e.heading}) == seed_rag.settings.evidence_chunks
