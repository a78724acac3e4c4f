"""The answer rules one by one, on made-up sentences (no model, no index), and `decide()` switching them off."""
from dataclasses import replace

import pytest

from rag.answer.asked import english_role
from rag.answer.extract import decide
from rag.answer.rules import RULES, asked, check_names
from rag.config import Settings
from rag.errors import SettingsError
from rag.retrieve.retriever import Evidence

SETTINGS = Settings()


def evidence(text: str, document: str | None = None, overlap: float = 1.0, score: float = 1.0,
             entities: tuple[tuple[str, str], ...] = ()) -> Evidence:
    """A made-up sentence as evidence; `entities` are (name, type) pairs standing for the NER's spans of it."""
    spans = tuple((text.index(name), text.index(name) + len(name), kind) for name, kind in entities)
    return Evidence("made-up.txt", 0, len(text), text, score, score, overlap, 1, False, document or text, "", spans)


def passes(rule: str, question: str, sentence: str, **kw) -> bool:
    return RULES[rule].check(asked(question, 1.0, SETTINGS), evidence(sentence, **kw))


# (rule, question, a sentence that passes, a sentence that does not): each rule's docstring example.
CASES = [
    ("shares_a_word", "В каком году Петров дал интервью?", "Петров дал интервью в 2020 году.", "Стратегия «Север – 2040» принята."),
    ("year_for_what_year", "В каком году пройдет саммит?", "Саммит пройдет в 2025 году.", "Саммит пройдет летом."),
    ("year_for_what_year", "Какими годами датирован отчёт?", "Отчёт © 2005-2015 Иван Петров.", "Отчёт подписал Иван Петров."),
    ("digits_for_a_period", "На какой срок принята программа?", "Программа принята на 2025–2027 годы.", "Программа принята на ближайшие годы."),
    ("day_for_what_date", "Какого числа пройдет встреча?", "Встреча пройдет 9 августа.", "Встреча пройдет в августе."),
    ("time_for_when", "Когда пройдет встреча?", "Встреча пройдет в пятницу.", "Встреча пройдет в Астане."),
    ("person_for_who", "Кто об этом заявил?", "Об этом заявил Иван Петров.", "Об этом заявили в министерстве."),
    ("name_for_which_organisation", "В какой организации она работает?", "Она работает в ОДКБ.", "Она работает в одной организации."),
    ("number_for_how_many", "Сколько участников приехало?", "Приехали сорок участников.", "Приехали участники из разных городов."),
    ("measure_for_what_size", "Какой длины должно быть описание?", "Ограничьте описание шестьюдесятью символами.",
     "В строке 12 стоит описание."),
    ("number_for_how_many", "Сколько символов в описании?", "Описание — не более 60 символов.", "В строке 12 стоит описание."),
    ("place_for_which_place", "Какая страна предложила план?", "План мира предложила Молдова.", "План предложили страны региона."),
    ("place_for_which_place", "Из какого города пришла заметка?", "ГРОДНО, 2 мар — Заметка о ярмарке.", "Заметка о ярмарке пришла вчера."),
    ("role_words_together", "Кто генеральный секретарь союза?", "Генеральный секретарь союза Иван Петров выступил.", "Секретарь совета и генеральный директор союза выступили."),
    ("role_words_together", "Who is the president of Tajikistan?", "Выступили президент России и президент Таджикистана Иван Петров.",
     "Президент России выступил в Таджикистане."),  # the title translated, the place by its consonants («дж» is "j")
    ("question_numbers_in_article", "Какая программа принята на 2031 год?", "Программа на 2031 год принята.", "Программа на 2027 год принята."),
    ("ordinals_in_article", "Где пройдет седьмая встреча?", "Седьмая встреча пройдет в Минске.", "Шестая встреча пройдет в Минске."),
    ("technical_names_in_article", "Куда ставится файл tool.cron.yearly?", "Файл tool.cron.yearly ставится в /etc/cron.yearly/.",
     "Файл tool.cron.weekly ставится в /etc/cron.weekly/."),
    ("technical_names_in_article", "Что делает параметр --skip-build?", "Параметр --skip-build пропускает сборку.",
     "Параметр --skip-patches пропускает заплаты."),
    ("quoted_names_in_article", "Где прошла встреча в формате «Север – Юг»?", 'Встреча в формате "Север - Юг" прошла в Минске.',
     "Встреча в формате «Север – Запад» прошла в Минске."),  # the quotes and dashes may differ, the words not
    ("technical_names_in_article", "Сколько символов отводит synaptic под поле?", "В synaptic поле занимает 12 символов.",
     "В aptitude поле занимает 12 символов."),  # a Russian question's lowercase Latin word names a program
    ("technical_names_in_article", "Как задать уровень через пакет tool-compat?", "Уровень задаёт пакет tool-compat.",
     "Уровень задаёт файл tool/compat."),  # a hyphenated lowercase name is one name
    ("technical_names_in_article", "Зачем нужен файл debian/пакет.hooks?", "Файл debian/пакет.hooks задаёт хуки.",
     "Файл debian/пакет.cron.daily задаёт задания."),  # a translation's placeholder: the file's suffix is its name
    ("names_near_answer", "Что министр назвал главным по итогам форума в Гродно?",
     "По итогам форума в Гродно министр назвал главным торговлю.", "По итогам форума министр назвал главным торговлю."),
    ("technical_names_near_answer", "Какой параметр передать tool-build, чтобы сохранить файл .stamp?",
     "Параметр --keep команды tool-build сохраняет файл .stamp.", "Команде tool-build передают параметр --fast."),  # a suffix alone is a name
    ("role_words_together", "Кто является председателем комитета?", "Председатель комитета Иван Петров выступил.",
     "Заместитель председателя комитета Иван Петров выступил."),  # a copula before the title; a deputy is another role
    ("role_words_together", "Кто занимал пост генерального секретаря союза во время встречи в Минске?",
     "Генеральный секретарь союза Иван Петров выступил.", "Иван Петров выступил на встрече в Минске."),
    ("role_words_together", "Как зовут премьер-министра Литвы, приехавшего на форум?",  # «как зовут» asks who holds the role
     "Премьер-министр Литвы Иван Петров приехал на форум.", "Президент Литвы Иван Петров и премьер-министр Латвии приехали."),
    ("person_for_who", "Как звали мэра города в 1990 году?", "Мэром города в 1990 году был Иван Петров.",
     "Мэром города в 1990 году был бывший директор завода."),
    ("number_for_how_many", "Какая доля программ собирается без правок?", "Без правок собирается почти 90% пакетов.",
     "Без правок собираются многие пакеты."),  # a share is answered in percent of whatever the sentence counts
    ("names_in_article", "Что министр сказал про Ближний Восток?", "О Ближнем Востоке министр сказал многое.",
     "О Южной Африке министр сказал многое."),  # common words capitalised together are a name
    ("more_than_a_reference", "Какие файлы обязательны?", "Наиболее важные из них: control и rules; они обязательны.",
     "Их назначение описано в Глава 4, Обязательные файлы в каталоге debian."),
    ("several_for_which_ones", "Какие файлы обязательны для пакета?", "Наиболее важные: control, changelog, copyright и rules.",
     "Пакет ставит себя в каталог /usr/local."),
    ("names_in_article", "Когда министры встречались в Женеве?", "Министры встречались в Женеве в мае.", "Министры встречались в Вене в мае."),
    ("place_adjectives_in_article", "Что открылось в узбекском городе?", "В Узбекистане открылся центр.", "В Казахстане открылся центр."),
    ("acronyms_in_article", "Где пройдет встреча ОДКБ?", "Встреча ОДКБ пройдет в Минске.", "Встреча ШОС пройдет в Минске."),
    ("measured_noun_in_sentence", "На сколько процентов выросло число терактов?", "Число терактов выросло на 30 процентов.",
     "Отмечено 183 конфликта, число которых выросло на 30 процентов."),
    ("reason_for_why", "Почему поле используется редко?", "Поле используется редко, так как его не читает сборщик.", "Поле используется редко."),
    ("said_not_announced", "Какую роль, по мнению Петрова, играют встречи?", "Встречи — важные платформы для диалога, считает Петров.",
     "Петров поделился мнением о роли встреч."),
    ("reason_after_claim", "Почему прежних мер мало?", "Прежних мер уже недостаточно.", "Прежних мер мало, так как угрозы растут."),
    ("said_after_announcement", "Какое событие министр назвал главным?", "Он отметил и позитивные сдвиги в политике.",
     "Главное событие — саммит в Минске, отметил министр."),  # a credit after what was said is no announcement
    ("reason_for_why", "Зачем нужен этот файл?", "Файл нужен, чтобы система нашла документацию.", "Этот файл лежит в каталоге debian."),
    ("reason_for_why", "Для чего нужен пакет tarman?", "Пакет tarman — программа, упаковывающая архивы.",  # about the thing
     "Затем создадим файл ~/.tarmanrc для программы tarman."),
]


# Rules that read the NER's spans: (rule, question, a sentence that passes and its spans, one that does not and its).
NER_CASES = [
    ("several_for_which_of", "Кто из министров выступил по видео?",
     "Выступили министр Иван Петров и министр Анна Смирнова (по видео).", (("Иван Петров", "PER"), ("Анна Смирнова", "PER")),
     "Министр Иван Петров открыл форум.", (("Иван Петров", "PER"),)),
]


@pytest.mark.parametrize(("rule", "question", "good", "good_spans", "bad", "bad_spans"), NER_CASES, ids=[c[0] for c in NER_CASES])
def test_a_rule_reads_the_people_the_ner_found(rule, question, good, good_spans, bad, bad_spans):
    assert passes(rule, question, good, entities=good_spans)
    assert not passes(rule, question, bad, entities=bad_spans)
    assert passes(rule, "Кто открыл форум?", bad, entities=bad_spans)  # no group asked of: every sentence will do


def test_every_rule_has_a_case_and_a_docstring_example():
    assert {c[0] for c in CASES + NER_CASES} | {c[0] for c in PHRASES} | {"confident", "not_a_heading"} == set(RULES)
    assert all("«" in r.doc for r in RULES.values()), [r.name for r in RULES.values() if "«" not in r.doc]


@pytest.mark.parametrize(("rule", "question", "good", "bad"), CASES, ids=[c[0] for c in CASES])
def test_a_rule_lets_the_right_sentence_through_and_stops_the_near_miss(rule, question, good, bad):
    overlap = {"bad": 0.0} if rule == "shares_a_word" else {}
    assert passes(rule, question, good)
    assert not passes(rule, question, bad, overlap=overlap.get("bad", 1.0))


GUIDE = ("1. Файл control\n\nФайл debian/control описывает пакет. Поле Depends перечисляет зависимости.\n\n"
         "2. Шаблоны\n\nУдалённый шаблон вернёт повторный запуск dh_make.\n\nВ старом выпуске lenny шаблонов не было.\n\n"
         "3. Сборка\n\nСборку в debian ведёт dpkg. Команда debian не одна, debian везде.")


def section_evidence(sentence: str, section: str) -> Evidence:
    start = GUIDE.index(sentence)
    return replace(evidence(sentence, GUIDE), start=start, end=start + len(sentence), section=section)


def test_a_rare_technical_name_must_stand_in_the_answers_section_and_a_frequent_one_need_not():
    near = RULES["technical_names_near_answer"].check
    templates = section_evidence("Удалённый шаблон вернёт повторный запуск dh_make.", "2. Шаблоны")
    assert near(asked("Как вернуть удалённый шаблон в lenny?", 1.0, SETTINGS), templates)  # the paragraph after it
    assert not near(asked("Как вернуть удалённый шаблон, если есть файл debian/control?", 1.0, SETTINGS), templates)
    assert near(asked("Как вернуть удалённый шаблон в каталоге debian?", 1.0, SETTINGS), templates)  # the subject
    depends = section_evidence("Поле Depends перечисляет зависимости.", "1. Файл control")
    assert near(asked("Что перечисляет поле Depends в debian/control?", 1.0, SETTINGS), depends)
    assert not near(asked("Что перечисляет поле Depends при сборке в lenny?", 1.0, SETTINGS), depends)


NEWS = ("МИНСК, 2 мар. Петров выступил на форуме.\n\nПетров назвал главным торговлю.\n\nПетров говорил долго.\n\n"
        "Петров напомнил о давнем форуме.\n\nТогда, в Гродно, главным назвали транзит.")


def test_a_name_the_article_writes_once_must_stand_near_the_answer_and_its_subject_anywhere():
    near = RULES["names_near_answer"].check
    start = NEWS.index("Петров назвал")
    trade = replace(evidence("Петров назвал главным торговлю.", NEWS), start=start, end=start + 31)
    assert near(asked("Что Петров назвал главным в Минске?", 1.0, SETTINGS), trade)  # the dateline's paragraph is before it
    assert not near(asked("Что назвали главным в Гродно?", 1.0, SETTINGS), trade)  # Гродно stands three paragraphs on
    start = NEWS.index("Тогда")
    transit = replace(evidence("Тогда, в Гродно, главным назвали транзит.", NEWS), start=start, end=len(NEWS))
    assert near(asked("Что Петров назвал главным в Гродно?", 1.0, SETTINGS), transit)  # Петров: named in every paragraph


def test_a_rule_that_the_question_does_not_ask_for_lets_everything_through():
    assert passes("year_for_what_year", "Где пройдет саммит?", "Саммит пройдет летом.")
    assert passes("shares_a_word", "Where will the summit be held?", "Саммит пройдет в Астане.", overlap=0.0)  # English: no overlap expected


def test_confident_abstains_below_the_calibrated_threshold():
    question = "Где пройдет саммит?"
    assert RULES["confident"].check(asked(question, 1.0, SETTINGS), evidence("Саммит пройдет в Астане.", score=0.9))
    assert not RULES["confident"].check(asked(question, 1.0, SETTINGS), evidence("Саммит пройдет в Астане.", score=0.5))


def test_decide_consults_only_the_enabled_rules():
    question, weak = "В каком году пройдет саммит?", [evidence("Саммит пройдет летом.", score=0.9)]
    assert decide(question, weak, 1.0, SETTINGS).abstained
    answer = decide(question, weak, 1.0, Settings(disabled_rules=["year_for_what_year"]))
    assert not answer.abstained and answer.answer == "Саммит пройдет летом."


def test_disabled_rules_come_from_the_environment_and_a_typo_is_refused(monkeypatch):
    monkeypatch.setenv("RAG_DISABLED_RULES", "confident, person_for_who")
    assert Settings().disabled_rules == ["confident", "person_for_who"]
    with pytest.raises(SettingsError, match="unknown rule.*confidant"):
        check_names(["confidant"])


def test_a_preference_puts_a_close_candidate_it_likes_first_and_no_distant_one():
    question = "Почему поле используется редко?"
    restating = evidence("Поле используется редко.", score=1.0)
    reason = replace(evidence("Оно редко нужно, так как сборщик его не читает.", score=0.99), start=30, end=77)
    assert decide(question, [restating, reason], 1.0, SETTINGS).answer == reason.text
    assert decide(question, [restating, reason], 1.0, Settings(disabled_rules=["reason_for_why"])).answer == restating.text
    far = evidence("Оно редко нужно, так как сборщик его не читает.", score=0.9)  # further than prefer_margin
    assert decide(question, [restating, far], 1.0, SETTINGS).answer == restating.text
    answer = decide(question, [restating, reason], 1.0, SETTINGS)
    assert [c.quote for c in answer.citations][:2] == [reason.text, restating.text]  # the passed-over one still cited
    assert decide("Где лежит поле?", [restating, reason], 1.0, SETTINGS).answer == restating.text  # no why: no preference


def test_not_a_heading_stops_a_heading_and_lets_the_text_under_it_through():
    a = asked("Когда пройдет саммит ШОС?", 1.0, SETTINGS)
    heading = Evidence("made-up.txt", 0, 40, "Саммит ШОС в Астане и его важность", 1.0, 1.0, 1.0, 1, True, "…")
    assert not RULES["not_a_heading"].check(a, heading)
    assert RULES["not_a_heading"].check(a, evidence("Саммит ШОС пройдет в июле."))


@pytest.mark.parametrize(("question", "sentence"), [
    ("Где прошла 6-я встреча?", "Шестая встреча прошла в Минске."),
    ("Где прошла шестая встреча?", "6-я встреча прошла в Минске."),
    ("Where was the sixth meeting held?", "Шестая встреча прошла в Минске."),
])
def test_an_ordinal_is_matched_by_its_value_in_digits_or_words(question, sentence):
    assert passes("ordinals_in_article", question, sentence)
    assert not passes("ordinals_in_article", question, sentence.replace("Шестая", "Седьмая").replace("6-я", "7-я"))


def test_a_number_is_matched_as_a_whole_token_not_inside_a_year():
    assert not passes("question_numbers_in_article", "Какие 5 стран подписали договор?", "В 2025 году договор подписали страны союза.")
    assert passes("question_numbers_in_article", "Какие 5 стран подписали договор?", "В 2025 году договор подписали 5 стран.")
    assert passes("question_numbers_in_article", "Что принято на 2025-2027 годы?", "Программа на 2025–2027 годы принята.")
    assert passes("question_numbers_in_article", "Хватит ли 60 знаков на подпись?", "Подпись ограничьте шестьюдесятью знаками.")  # by value
    assert not passes("question_numbers_in_article", "Хватит ли 70 знаков на подпись?", "Подпись ограничьте шестьюдесятью знаками.")


def test_a_dateline_city_in_capitals_is_no_organisation():
    question = "В какой организации она работает?"
    assert not passes("name_for_which_organisation", question, "МИНСК, 3 мая. Она работает в одной организации.")
    assert passes("name_for_which_organisation", question, "Она работает в ОДКБ.")
    assert passes("name_for_which_organisation", question, "Она работает в США, в «Северном фонде».")


def test_a_number_must_count_the_noun_asked_about():
    question = "Сколько стран подписали договор?"
    assert not passes("number_for_how_many", question, "Договор направлен против трем силам зла.")
    assert passes("number_for_how_many", question, "Договор подписали пять крупнейших стран.")
    assert passes("number_for_how_many", question, "Договор подписали 12 участников, все страны региона.")  # digits, the noun near
    assert not passes("number_for_how_many", question, "Договор подписан в 12 часов.")  # digits of something else
    assert passes("number_for_how_many", "Сколько процентов голосов он набрал?", "Он набрал 52% голосов.")
    assert passes("number_for_how_many", "Сколько символов отводится под поле?", "Длина поля по умолчанию равна 10.")  # a measure


def test_names_are_the_questions_capitalised_names_not_its_capitalised_common_words():
    from rag.answer.names import question_names
    assert question_names("Где выступал Президент Петров в Женеве?") == ("петров", "женеве")
    assert question_names("Что решил Совет ОДКБ?") == ()  # a common noun; the acronym is acronyms_in_article's
    assert question_names("Какова длина моста?") == ()  # a question word pymorphy3 does not know as one


@pytest.mark.parametrize(("question", "sentence"), [
    ("Что обсудили в России?", "Российская делегация обсудила торговлю."),  # the adjective of a country
    ("Что обсудили в Таджикистане?", "Таджикская делегация обсудила торговлю."),
    ("Что обсудили в Киргизии?", "В Кыргызстане обсудили торговлю."),  # another name of it (rag/data/names.toml)
    ("Что случилось в Crocus?", "В «Крокусе» случился пожар."),  # across scripts
])
def test_a_name_matches_its_adjective_its_other_name_and_its_transliteration(question, sentence):
    assert passes("names_in_article", question, sentence)
    assert not passes("names_in_article", question, "Делегация Молдовы обсудила торговлю.")


@pytest.mark.parametrize(("question", "kinds"), [
    ("Что сказал Петров, когда выступал в Минске?", set()),  # «когда» opens a subordinate clause: no date is asked
    ("Скажите, когда пройдет встреча?", {"time_for_when"}),  # nothing asks before «когда»: it is the question
    ("Кто выступил, когда открылся форум?", {"person_for_who"}),
    ("Когда пройдет саммит, на котором выступит Петров?", {"time_for_when"}),
    ("Какая структура отвечает за заповедники?", {"name_for_which_organisation"}),  # «структура» is an organisation
])
def test_the_answer_type_is_read_from_the_main_clause(question, kinds):
    assert asked(question, 1.0, SETTINGS).kinds == kinds
    if not kinds:
        assert passes("time_for_when", question, "Петров заявил, что рост экономики продолжится.")


def test_a_latin_word_is_no_person():
    assert not passes("person_for_who", "Кто об этом сообщил?", "Об этом сообщил портал Newsline.")  # a site
    assert not passes("person_for_who", "Кто собирает пакет?", "Пакет собирает программа Debuild.")  # a program
    assert passes("person_for_who", "Кто об этом сообщил?", "Об этом сообщил Иван Петров порталу Newsline.")


def test_the_interrogative_phrase_is_found_wherever_it_stands_in_the_main_clause():
    from rag.answer.asked import interrogative
    assert interrogative("Сессия какого совета прошла в Душанбе?") == "какого совета прошла в Душанбе?"
    assert interrogative("А центр в какой стране откроют?") == "в какой стране откроют?"
    assert interrogative("Что сказал Петров, когда выступал в Минске?") == "Что сказал Петров"
    assert interrogative("Расскажи про саммит") == "Расскажи про саммит"


def test_who_is_a_named_person_is_no_role_question():
    assert asked("Кто такой Иван Петров?", 1.0, SETTINGS).role is None  # the names are held by names_in_article
    assert asked("Кто такой генеральный секретарь союза?", 1.0, SETTINGS).role
    assert passes("role_words_together", "Кто такой Иван Петров?", "Петров, министр финансов, выступил в среду.")


# (phrase rule, question, sentence, the short answer cut from it): each phrase rule's docstring example.
PHRASES = [
    ("short_date", "Когда пройдет встреча?", "Встреча пройдет в пятницу в Минске.", "в пятницу"),
    ("short_date", "В каком году пройдет саммит?", "Саммит пройдет в 2030 году в Минске.", "в 2030 году"),
    ("short_date", "Какого числа пройдет встреча?", "Встреча пройдет 9 августа 2030 года в Минске.", "9 августа 2030 года"),
    ("short_date", "Какого числа пройдет встреча?", "В Минске встреча пройдет 9 августа.", "9 августа"),  # without the full stop
    ("short_date", "Когда пройдет ярмарка?", "ГРОДНО, 2 мар — Ярмарка пройдет 5 марта на площади.", "5 марта"),  # not the dateline's
    ("short_date", "Какого числа выступил Петров?", "ГРОДНО, 2 мар — Петров выступил на форуме.", "2 мар"),  # a report of the day
    ("short_number", "Сколько стран подписали договор?", "В 2030 году 5 крупнейших стран подписали договор.", "5 крупнейших стран"),
    ("short_number", "Сколько соглашений подписали?", "Министры подписали три новых соглашения.", "три новых соглашения"),  # in words
    ("short_number", "На сколько процентов вырос экспорт?", "Экспорт вырос в 2030 году почти на 30 процентов.", "почти на 30 процентов"),
    ("short_number", "Насколько выросли за год цены на хлеб?", "За год в городе открыли 12 пекарен, а цены на хлеб выросли на 8 процентов.",
     "на 8 процентов"),  # one word, as often written
    ("short_number", "На сколько, по оценке министра, выросло число заводов?", "Открыто 120 заводов, число которых выросло на 15 процентов.",
     "на 15 процентов"),  # by how much: the change, not the count beside it
    ("short_number", "Какую долю населения представляет союз?", "Союз представляет половину населения планеты.", "половину населения"),
    ("short_measure", "Какой длины должна быть подпись к снимку?", "Ширина ленты вмещает 90 знаков, поэтому ограничьте подпись сорока знаками.",
     "сорока знаками"),  # the clause naming what is measured, not the first number
    ("short_measure", "Какова длина моста через залив?", "Мост длиной 12 километров соединил берега залива.", "12 километров"),
    ("short_measure", "Какой длины бывают имена улиц?", "Имена 80% улиц короче 20 букв.", "20 букв"),  # a share is no size
    ("short_number", "Какой процент голосов набрал Петров?", "Петров набрал 52 процента голосов, а 300 человек не пришли.", "52 процента"),
    ("short_number", "Какой процент программ собирается без правок?", "Без правок собирается почти 90% программ.", "почти 90%"),
    ("short_number", "Сколько голосов получил Петров?", "Петров получил две трети голосов.", "две трети голосов"),  # a share in words
    ("short_number", "Сколькими словами ограничить описание?", "Ограничьте описание [12] шестьюдесятью словами.", "шестьюдесятью словами"),
    ("short_number", "Скольких сторон сотрудничество расширит план?", "План расширит трехстороннее сотрудничество стран.",
     "трехстороннее сотрудничество"),  # a numeral compound of the counted noun
    ("short_number", "Сколько веток использует сборщик?", "Сборщик[7] использует три ветки.", "три ветки"),  # «[7]» marks a footnote
    ("short_ordinal", "Которая по счёту это встреча министров?", "Ожидается, что вторая встреча министров пройдет в мае.", "вторая встреча"),
    ("short_ordinal", "Какой по счёту будет форум?", "Город готовится к третьему экономическому форуму регионов.", "третьему экономическому форуму"),
    ("short_date", "За какой год подвели итоги?", "Министры подвели итоги за 2030 год.", "за 2030 год"),
    ("short_date", "На какой период принята программа?", "Принята программа на 2030-2035 годы и план.", "на 2030-2035 годы"),
    ("short_person", "Как зовут министра финансов, который выступил на форуме?", "На форуме выступили министр финансов Иван Петров и Анна Смирнова.",
     "министр финансов Иван Петров"),  # the relative clause's verb is not what is asked
    ("short_person", "Кто генеральный секретарь союза?", "На встрече выступил генеральный секретарь союза Иван Петров.",
     "генеральный секретарь союза Иван Петров"),
    ("short_person", "Как звали генерального секретаря союза на встрече?", "На встрече выступил генеральный секретарь союза Иван Петров.",
     "генеральный секретарь союза Иван Петров"),  # the past tense asks the same
    ("short_person", "Кто возглавлял министерство финансов Молдовы?", "Пришли министр финансов Румынии Иван Петров и министр финансов Молдовы Анна Смирнова.",
     "министр финансов Молдовы Анна Смирнова"),  # a verb of holding a post; of two people, the one whose title the question names
    ("short_person", "Кто генеральный секретарь союза?", "Генеральный секретарь союза Иван Петров и Анна Смирнова выступили.",
     "Генеральный секретарь союза Иван Петров"),  # two people: the title stands by one
    ("short_person", "Who is the president of Moldova?", "Пришли президент Румынии Иван Петров и президент Молдовы Анна Смирнова.",
     "президент Молдовы Анна Смирнова"),  # English: the title translated (rag/data/titles.toml), the place by its consonants
    ("short_person", "Who is the prime minister?", "Выступили министр финансов Иван Петров и премьер-министр Анна Смирнова.",
     "премьер-министр Анна Смирнова"),  # the longer title first: not every «министр»
    ("short_person", "Какой министр выступил на форуме?", "На форуме выступил министр финансов Иван Петров.", "министр финансов Иван Петров"),
    ("short_description", "Кто такой Иван Петров?", "В заседании участвовали министры, а также генеральный секретарь союза Иван Петров.",
     "генеральный секретарь союза Иван Петров"),
    ("short_description", "Кто такая Анна Смирнова?", "Анна Смирнова, министр финансов, выступила с докладом.", "Анна Смирнова, министр финансов"),
    ("short_place", "Где пройдет саммит?", "Саммит пройдет в Минске летом.", "в Минске"),
    ("short_place", "Какая страна предложила план?", "План мира предложила Молдова.", "Молдова"),
    ("short_place", "В каком молдавском городе открылся центр?", "Центр открылся в городе Бельцы на севере Молдовы.", "в городе Бельцы"),
    ("short_place", "А центр в каком городе откроют?", "Центр откроют в городе Бельцы весной.", "в городе Бельцы"),  # asked mid-question
    ("short_place", "В каком городе разместили персонал?", "Персонал разместили в городе Бельцы для помощи в Молдове.",
     "в городе Бельцы"),  # of two places, the one called a city
    ("short_place", "Какую страну министр назвал главным партнером?", "Министр назвал главным партнером Молдову.", "Молдова"),
    ("short_place", "Какая страна поддержала план?", "Министр поблагодарил молдавскую сторону за поддержку плана.", "молдавскую сторону"),
    ("short_organisation", "В какой организации она работает?", "Она работает в «Северном фонде» с 2020 года.", "«Северном фонде»"),
    ("short_name", "Как называется новая стратегия?", "Министры приняли стратегию «Север – 2040» в мае.", "«Север – 2040»"),
    ("short_organisation", "В какой организации она работает?", "Глава ОО «Северный фонд» Анна Смирнова выступила.", "ОО «Северный фонд»"),
    ("short_identifier", "В какой каталог попадут пакеты?", "Собранные пакеты попадут в каталог /var/cache/build/out/.", "/var/cache/build/out/"),
    ("short_identifier", "Куда ставить программы вместо /opt/bin?", "Программы ставьте в /usr/bin вместо /opt/bin, а справку в /usr/share/help.",
     "/usr/bin"),  # of several, the one after a word of the question; the one it names is no answer
    ("short_identifier", "В какую рассылку писать новичкам?", "Новичкам пишите в рассылку help-new@lists.example.org и ждите.",
     "help-new@lists.example.org"),
    ("short_identifier", "Куда ставится файл tool.cron.daily?", "Файл tool.cron.daily ставится как /etc/cron.daily/пакет и запускается.",
     "/etc/cron.daily/пакет"),  # a translation's placeholder in the path
    ("short_identifier", "В каких файлах хранятся настройки?", "Настройки хранятся в /etc/tool.conf и ~/.tool.conf.", "/etc/tool.conf, ~/.tool.conf"),
    ("short_owner", "Со ссылкой на чей сайт сообщили о форуме?", "О форуме сообщили со ссылкой на сайт Минфина.", "сайт Минфина"),
    ("short_owner", "Чью службу процитировал министр?", "Министр процитировал пресс-службу главы союза, а затем ушёл.",
     "пресс-службу главы союза"),  # a compound's last part is the noun asked; the owner is the genitive after it
    ("short_identifier", "На каком сайте описан формат?", "Формат описан на https://example.org/format/, а пример в /usr/share/doc/.", "https://example.org/format/"),
]


# Phrases cut from the spans the NER found at index time: (rule, question, sentence, its spans, the short answer).
NER_PHRASES = [
    ("short_person", "Какой министр финансов примет участие в форуме?",  # a name of one letter: the NER's span, not the rules'
     "Все приветствовали участие министра финансов Ли Ю в форуме.", (("Ли Ю", "PER"),),
     "министра финансов Ли Ю"),
    ("short_person", "Кто заявил об угрозе?", "Об угрозе заявил министр Иван Петров.", (("Иван Петров", "PER"),), "министр Иван Петров"),
    ("short_person", "Кто рассказал о планах союза?", "Политолог Анна Смирнова рассказала Ивану Петрову о планах союза.",
     (("Анна Смирнова", "PER"), ("Ивану Петрову", "PER")), "Политолог Анна Смирнова"),  # two people: the verb's subject
    ("short_person", "Кто предложил план?", "План предложил министр Иван Петров, а Анна Смирнова его поддержала.",
     (("Иван Петров", "PER"), ("Анна Смирнова", "PER")), "министр Иван Петров"),  # the subject after its verb
    ("short_person", "Кто рассказал о планах союза?", "О планах союза рассказали Анна Смирнова и Иван Петров.",
     (("Анна Смирнова", "PER"), ("Иван Петров", "PER")), ""),  # two people: the sentence says both
    ("short_person", "Кто поблагодарил министра?", "Министр поблагодарил Ивана Петрова и Анну Смирнову.",
     (("Ивана Петрова", "PER"), ("Анну Смирнову", "PER")), ""),  # the verb's objects, in the accusative
    ("short_person", "Кто выступил на встрече?", "На встрече выступили все министры, — сказал Иван Петров.",
     (("Иван Петров", "PER"),), ""),  # the verb in the plural: a group did it
    ("short_person", "Кого поблагодарил министр?", "Министр поблагодарил президента союза Ивана Петрова за работу.",
     (("Ивана Петрова", "PER"),), "президента союза Ивана Петрова"),  # the verb's object
    ("short_person", "Кого поблагодарил министр?", "Министр поблагодарил всех участников, а Иван Петров выступил.",
     (("Иван Петров", "PER"),), ""),  # no name right after the verb
    ("short_name", "Как называется агентство, которое предложили создать?", "Министр предложил создать Международное агентство по безопасности.",
     (("Министр", "PER"), ("Международное агентство по безопасности", "ORG")), "Международное агентство по безопасности"),
    ("short_name", "Как называется агентство, которое предложили создать?", "Министр предложил создать агентство.", (), ""),  # no name
    ("short_name", "Сессия какого совета прошла в Минске?", "В Минске прошла сессия Высшего совета республики.",
     (("Минске", "LOC"), ("Высшего совета республики", "ORG")), "Высшего совета республики"),  # «какой X»: the span holding X
    ("short_name", "Какой документ подписали министры?", "Министры подписали Северное соглашение в Минске.",
     (("Северное соглашение", "ORG"), ("Минске", "LOC")), ""),  # no name holds «документ»: the sentence answers
    ("short_name", "Какой совет одобрил план?", "План одобрили Высший совет и Малый совет.",
     (("Высший совет", "ORG"), ("Малый совет", "ORG")), ""),  # two names hold it
    ("short_organisation", "В какой организации Анна Смирнова заместитель председателя?",
     "Заместитель председателя ОО «Северный фонд», политолог Анна Смирнова в интервью ИА Юг.Ру рассказала о планах.",
     (("ОО «Северный фонд»", "ORG"), ("Анна Смирнова", "PER"), ("ИА Юг.Ру", "ORG")), "ОО «Северный фонд»"),  # of two, the one after the question's word
    ("short_organisation", "Какое издание взяло интервью у Анны Смирновой?",
     "Заместитель председателя ОО «Северный фонд», политолог Анна Смирнова в интервью ИА Юг.Ру рассказала о планах.",
     (("ОО «Северный фонд»", "ORG"), ("Анна Смирнова", "PER"), ("ИА Юг.Ру", "ORG")), "ИА Юг.Ру"),  # «ИА» alone is part of the span
    ("short_organisation", "В какой организации работает Анна Смирнова?",
     "Заместитель председателя ОО «Северный фонд», политолог Анна Смирнова в интервью ИА Юг.Ру рассказала о планах.",
     (("ОО «Северный фонд»", "ORG"), ("Анна Смирнова", "PER"), ("ИА Юг.Ру", "ORG")), ""),  # no question word by either: the sentence
    ("short_organisation", "Какая организация ЕАЭС создала центр?", "Центр ЕАЭС создала Северная организация сотрудничества.",
     (("Северная организация сотрудничества", "ORG"),), "Северная организация сотрудничества"),  # no quotes, no acronym
]


@pytest.mark.parametrize(("question", "sentence"), [
    ("Какой командой подписать файлы?", "Подпишите их так: $ cd /var/out/ $ sign foo.changes"),  # a command is asked, not a path
    ("Где взять исходники и/или заплаты?", "Исходники и/или заплаты лежат на сервере проекта."),  # «и/или» is no path
    ("В какой каталог попадут программы?", "Программы ставьте в /usr/bin, справку в /usr/share/help."),  # two, neither after a question word
])
def test_no_identifier_is_cut_where_the_question_asks_for_none_or_the_sentence_gives_no_one(question, sentence):
    assert RULES["short_identifier"].check(asked(question, 1.0, SETTINGS), evidence(sentence)) == ""


@pytest.mark.parametrize(("rule", "question", "sentence", "spans", "short"), NER_PHRASES, ids=[f"{c[0]}-{c[4]}" for c in NER_PHRASES])
def test_a_phrase_rule_cuts_the_short_answer_from_the_ner_spans(rule, question, sentence, spans, short):
    assert RULES[rule].check(asked(question, 1.0, SETTINGS), evidence(sentence, entities=spans)) == short
    assert RULES[rule].check(asked(question, 1.0, SETTINGS), evidence(sentence)) in ("", short)  # without spans: never another
    answer = decide(question, [evidence(sentence, score=2.0, entities=spans)], 1.0, SETTINGS)
    assert answer.answer == (short or sentence) and answer.citations[0].quote == sentence


@pytest.mark.parametrize(("rule", "question", "sentence", "short"), PHRASES, ids=[f"{c[0]}-{c[3]}" for c in PHRASES])
def test_a_phrase_rule_cuts_the_short_answer_and_decide_cites_the_whole_sentence(rule, question, sentence, short):
    assert RULES[rule].check(asked(question, 1.0, SETTINGS), evidence(sentence)) == short
    answer = decide(question, [evidence(sentence, score=2.0)], 1.0, SETTINGS)
    assert answer.answer == short and answer.citations[0].quote == sentence
    whole = decide(question, [evidence(sentence, score=2.0)], 1.0, Settings(disabled_rules=[rule]))
    assert whole.answer == sentence


@pytest.mark.parametrize(("question", "sentence"), [
    ("Что сказал Петров, когда выступал в Минске?", "Петров заявил, что 9 августа встреча пройдет в Минске."),  # «когда» is subordinate
    ("Кто выступил на встрече?", "На встрече выступили все министры, — сказал Иван Петров."),  # a verb: a group may answer
    ("Кто генеральный секретарь союза?", "Генеральный секретарь союза, Иван Петров и Анна Смирнова выступили."),  # no title by a name
    ("Где пройдет саммит?", "Саммит пройдет в Минске, а встреча министров в Гродно."),  # two places
    ("Какая страна предложила план?", "План предложили Молдова и Румыния."),  # two countries
    ("Кто возглавлял делегации?", "Делегации возглавляли Иван Петров и Анна Смирнова."),  # two people, neither title asked
    ("Как зовут министра финансов?", "Министр финансов поддержал инициативу президента Ивана Петрова."),  # the one person has another title
    ("Каким членом совета назвали Молдову?", "Молдову, постоянного члена совета, представлял Иван Петров."),  # a description
    ("Сколько стран подписали договор?", "Договор подписали 12 участников, все страны региона."),  # 12 counts another noun
    ("Какого числа выступит Петров?", "ГРОДНО, 2 мар — Петров выступит на форуме."),  # the report's date, not the event's
    ("Кто такой Иван Петров?", "Иван Петров выступил на форуме в Минске."),  # no title beside the name
    ("Кто такая Анна Смирнова?", "В заключении интервью Анна Смирнова рассказала о планах."),  # nouns, but none for a person
    ("Чьё председательство завершилось?", "Министр поблагодарил Анну Смирнову за председательство в союзе."),  # no owner after it
])
def test_the_sentence_answers_when_no_phrase_can_be_cut_with_confidence(question, sentence):
    assert decide(question, [evidence(sentence, score=2.0)], 1.0, SETTINGS).answer == sentence


def test_a_place_named_by_an_adjective_is_found_by_its_adjective_or_another_way_of_writing_it():
    question = "Что сказал американский министр о торговле?"
    assert passes("place_adjectives_in_article", question, "Министр США высказался о торговле.")
    assert passes("place_adjectives_in_article", question, "Американская делегация обсудила торговлю.")
    assert not passes("place_adjectives_in_article", question, "Министр Франции высказался о торговле.")


@pytest.mark.parametrize("question", ["Когда прошли президентские выборы?", "Что обсудили на экономическом форуме?",
                                      "Какие женские организации выступили?"])
def test_an_adjective_of_no_place_holds_the_article_to_nothing(question):
    assert asked(question, 1.0, SETTINGS).places == ()
    assert passes("place_adjectives_in_article", question, "Об этом ничего не сказано.")


def test_a_side_is_a_country_only_when_a_place_is_its_adjective():
    question = "Какая страна поддержала план?"
    assert not passes("place_for_which_place", question, "Министр поблагодарил партнерскую сторону за поддержку плана.")
    assert passes("place_for_which_place", question, "Министр поблагодарил молдавскую сторону за поддержку плана.")


def test_an_adjective_of_a_place_is_no_place_to_answer_where_with():
    question = "Где пройдет саммит?"
    sentence = "Идет подготовка к Астанинскому саммиту, которому страна придает значение."
    assert RULES["short_place"].check(asked(question, 1.0, SETTINGS), evidence(sentence)) == ""
    assert decide(question, [evidence(sentence, score=2.0)], 1.0, SETTINGS).answer == sentence  # the sentence answers


def test_who_is_called_a_word_asks_for_its_meaning_not_for_a_name():
    assert "person_for_who" not in asked("Кого в союзе называют наставником?", 1.0, SETTINGS).kinds
    assert passes("person_for_who", "Кого в союзе называют наставником?", "Наставник — человек, который помогает новичкам.")
    assert "person_for_who" in asked("Кого поблагодарил министр?", 1.0, SETTINGS).kinds
    assert "person_for_who" in asked("Кто там насчитал сто конфликтов?", 1.0, SETTINGS).kinds  # «насчитал» is no «называть»


def test_an_announcement_answers_a_question_about_what_was_spoken_of():
    assert passes("said_not_announced", "О чём рассказал Петров?", "Петров рассказал о роли встреч.")
    assert passes("said_not_announced", "Какую роль играют встречи?", "Петров рассказал о том, что встречи важны.")  # «что» says it


def test_a_why_answered_by_a_bare_claim_is_quoted_with_the_sentence_after_it():
    question = "Почему прежних мер мало?"
    claim, reason, next_paragraph = "Прежних мер уже недостаточно.", "Время требует новых подходов.", "Министр ушёл."
    document = f"{claim} {reason}\n\n{next_paragraph}"
    answer = decide(question, [evidence(claim, document, score=2.0)], 1.0, SETTINGS)
    assert answer.answer == f"{claim} {reason}" and answer.citations[0].quote == f"{claim} {reason}"
    assert decide(question, [evidence(claim, document, score=2.0)], 1.0, Settings(disabled_rules=["reason_after_claim"])).answer == claim
    last = f"{claim}\n\n{next_paragraph}"  # the sentence ends its paragraph: nothing after it belongs to it
    assert decide(question, [evidence(claim, last, score=2.0)], 1.0, SETTINGS).answer == claim


def test_an_announcement_is_quoted_with_the_quotation_that_follows_it_in_the_next_paragraph():
    question = "Какое событие министр назвал главным?"
    said, quote = "Он отметил и позитивные сдвиги в политике.", '"Главный из них — саммит в Минске."'
    answer = decide(question, [evidence(said, f"{said}\n\n{quote}", score=2.0)], 1.0, SETTINGS)
    assert answer.answer == f"{said}\n\n{quote}" and answer.citations[0].quote == answer.answer
    assert decide(question, [evidence(said, f"{said}\n\nМинистр ушёл.", score=2.0)], 1.0, SETTINGS).answer == said  # no quotation


def test_a_name_the_question_rules_out_is_no_name_the_article_must_have():
    question = "Какой конфликт за пределами Северной Африки, кроме Египта и Ливии, назвал Петров?"
    assert asked(question, 1.0, SETTINGS).names == ("петров",)
    assert passes("names_in_article", question, "Петров назвал конфликт в Европе опасным.")


def test_an_english_role_is_its_title_and_the_place_of_it_not_every_name_after():
    assert english_role("Who is the president of Tajikistan according to the article?") == {"президент", "tkstn"}
    assert english_role("Who was the secretary general of the CSTO at the Minsk session attended by Petrov?") == {"генеральн", "секретар"}
    assert english_role("Who won the cup?") is None


def test_who_is_a_common_word_is_answered_by_its_definition():
    question = "Кто такой наставник в проекте?"
    glossary = "наставник (mentor) — человек, который помогает новичкам."
    assert passes("person_for_who", question, glossary) and passes("role_words_together", question, glossary)
    assert not passes("person_for_who", question, "сопровождающий — человек, который создал пакет.")  # another word's
    assert not passes("person_for_who", "Кто такой наставник?", "Наставник помогает новичкам.")  # no definition


def test_to_whom_may_be_a_group_named_by_its_acronym():
    assert passes("person_for_who", "Кому передают брошенный пакет?", "Сопровождающий передал пакет группе Debian QA.")
    assert not passes("person_for_who", "Кто передаёт брошенный пакет?", "Сопровождающий передал пакет группе Debian QA.")
    assert not passes("person_for_who", "Кому передают брошенный пакет?", "Пакет передают другому сопровождающему.")
