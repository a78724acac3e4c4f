"""The chat, the source viewer and the widget in a real browser (Debian chromium driven by Playwright).
Screenshots of every step go to test-artifacts/."""
import re
from pathlib import Path

import pytest
from conftest import WEB_TOKEN
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FINISHED = ".rag-sources, .rag-abstain, .rag-error"  # what a bot message shows once the answer is complete
SHOS = "001_6b3bc755e8fe2ed9.txt"
ODKB = "003_83e2e03ee03bef0d.txt"
ODKB_TITLE = "Токаев высказался о размещении афганских беженцев"
# Records every text the newest answer shows, to see it stream in.
WATCH_STREAM = """() => { window.seen = []; new MutationObserver(() => {
  const a = document.querySelectorAll('.rag-answer'); const t = a.length ? a[a.length - 1].textContent : null;
  if (t && window.seen[window.seen.length - 1] !== t) window.seen.push(t);
}).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `apt-get install -y chromium` (.ci/run does it)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def visits():
    """Every URL the browser asks for during a test, and every dialog (alert) a page opened."""
    return {"requests": [], "dialogs": []}


@pytest.fixture
def new_page(browser, visits):
    """Opens pages in fresh browser contexts, closed after the test (no connection outlives it)."""
    contexts = []

    def open_page(**context) -> Page:
        ctx = browser.new_context(locale="ru-RU", viewport=context.pop("viewport", {"width": 1200, "height": 860}), **context)
        contexts.append(ctx)
        ctx.on("request", lambda r: visits["requests"].append(r.url))
        page = ctx.new_page()
        page.on("dialog", lambda d: (visits["dialogs"].append(d.message), d.dismiss()))
        page.set_default_timeout(60_000)
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def ask(scope, question: str) -> None:
    box = scope.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")


def wait_answers(scope, n: int):
    """The n-th finished bot message."""
    done = scope.locator(".bot").filter(has=scope.locator(FINISHED))
    expect(done).to_have_count(n, timeout=60_000)
    return done.nth(n - 1)


def assert_offline(visits, base: str) -> None:
    outside = [u for u in visits["requests"] if not u.startswith((base, "data:", "blob:"))]
    assert not outside, f"requests outside the server: {outside[:5]}"


def test_chat_streams_an_answer_cites_the_file_and_opens_the_highlighted_passage(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/")
    expect(page.locator(".rag-header h1")).to_have_text("Вопросы по новостям")
    shot(page, "01-chat-start")
    page.evaluate(WATCH_STREAM)
    ask(page, "Где прошла сессия ОДКБ?")
    answer = wait_answers(page, 1)
    final = answer.locator(".rag-answer").text_content()
    seen = page.evaluate("window.seen")
    assert "Душанбе" in final and seen[-1] == final
    assert len(seen) >= 3 and seen[0].endswith("…") and len(seen[0]) < len(final), seen  # it streamed in
    cite = answer.locator("a.rag-cite").first
    # The document's outlet, date and title name the citation; the file name is secondary.
    expect(cite).to_have_text(f"Tengrinews.kz · 16 сентября 2021 · {ODKB_TITLE}")
    expect(answer.locator(".rag-cite-file").first).to_have_text(ODKB)
    quote = answer.locator(".rag-quote").first.text_content().strip("«»")
    shot(page, "02-chat-answer")

    with page.context.expect_page() as opened:
        cite.click()
    source = opened.value
    source.wait_for_load_state()
    mark = source.locator("mark#cited")
    expect(mark).to_have_text(quote)
    expect(mark).to_be_in_viewport()
    expect(source.locator("h1")).to_have_text("Токаев высказался о размещении афганских беженцев")
    expect(source.locator(".meta")).to_contain_text("16 сентября 2021")
    shot(source, "03-source-highlighted")
    assert_offline(visits, live_server)


def test_follow_up_is_answered_about_the_earlier_subject(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/")
    ask(page, "Где пройдет саммит ШОС?")
    first = wait_answers(page, 1)
    expect(first.locator(".rag-cite-file").first).to_have_text(SHOS)
    ask(page, "Кто об этом заявил?")
    second = wait_answers(page, 2)
    expect(second.locator(".rag-understood")).to_contain_text("саммит ШОС")
    expect(second.locator(".rag-cite-file").first).to_have_text(SHOS)
    expect(second.locator(".rag-answer")).to_contain_text("Казахстан")
    shot(page, "04-chat-follow-up")


def test_examples_abstention_and_new_conversation(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/")
    page.get_by_text("Кто генеральный секретарь ОДКБ?").click()
    expect(wait_answers(page, 1).locator(".rag-answer")).to_contain_text("Зась")
    ask(page, "Какой сейчас курс доллара к тенге?")
    abstained = wait_answers(page, 2)
    expect(abstained.locator(".rag-abstain")).to_contain_text("В статьях нет ответа")
    expect(page.locator(".rag-error")).to_have_count(0)
    expect(abstained.locator("a.rag-cite")).to_have_count(0)
    shot(page, "05-chat-example-and-abstention")

    page.locator("#rag-new").click()
    expect(page.locator(".bot")).to_have_count(0)
    expect(page.get_by_text("Где пройдет саммит ШОС?")).to_be_visible()  # the examples are back
    ask(page, "А когда?")  # a new conversation has no subject to carry over
    fresh = wait_answers(page, 1)
    expect(fresh.locator(".rag-understood")).to_have_count(0)
    shot(page, "06-chat-new-conversation")


def test_narrow_screen_keeps_everything_in_view(new_page, visits, live_server):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(live_server + "/")
    ask(page, "Кто генеральный секретарь ОДКБ?")  # a long answer
    wait_answers(page, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("#rag-question textarea")).to_be_in_viewport()
    expect(page.locator("#rag-new")).to_be_in_viewport()
    shot(page, "07-chat-mobile")


def test_markup_in_articles_and_questions_is_shown_as_text(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/")
    ask(page, "Когда пройдет Пингвиний фестиваль?")
    answer = wait_answers(page, 1)
    expect(answer.locator(".rag-answer")).to_contain_text("<script>alert(1)</script>")
    expect(answer.locator(".rag-quote").first).to_contain_text("<b>bold</b>")
    ask(page, "<b>bold</b> <img src=x onerror=alert(3)> <script>alert(4)</script>")
    wait_answers(page, 2)
    expect(page.locator(".user").last).to_have_text("<b>bold</b> <img src=x onerror=alert(3)> <script>alert(4)</script>")
    for part in (".rag-answer", ".rag-sources", ".rag-q"):
        assert page.locator(f"{part} b, {part} script, {part} img, {part} i").count() == 0, part
    shot(page, "08-markup-as-text-chat")

    with page.context.expect_page() as opened:
        answer.locator("a.rag-cite").first.click()
    source = opened.value
    expect(source.locator("mark#cited")).to_contain_text("<script>alert(1)</script>")
    expect(source.locator("h1")).to_have_text("Пингвиний фестиваль <b>bold</b> пройдет в Мурманске")
    assert source.locator("article b, article script, article img, article i, h1 b").count() == 0
    shot(source, "09-markup-as-text-source")
    page.wait_for_timeout(300)  # an injected script would have run by now
    assert visits["dialogs"] == []


def test_widget_demo_opens_the_chat_and_keeps_the_conversation(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/widget-demo")
    expect(page.locator("pre")).to_contain_text(f'<script src="{live_server}/widget.js" defer')
    shot(page, "10-widget-closed")
    page.locator("#rag-widget button.open").click()
    chat = page.frame_locator("#rag-widget iframe")
    ask(chat, "Где пройдет саммит ШОС?")
    first = wait_answers(chat, 1)
    expect(first.locator(".rag-cite-file").first).to_have_text(SHOS)
    expect(first.locator("a.rag-cite").first).to_have_text(re.compile(r"^Sputnik · 3 апреля 2024 · Казахстан придерживается"))
    ask(chat, "А кто об этом заявил?")
    follow_up = wait_answers(chat, 2)
    expect(follow_up.locator(".rag-understood")).to_contain_text("саммит ШОС")
    expect(follow_up.locator(".rag-answer")).to_contain_text("Казахстан")
    shot(page, "11-widget-answer")
    page.locator("#rag-widget button.close").click()
    expect(page.locator("#rag-widget .panel")).to_be_hidden()
    assert_offline(visits, live_server)


def test_widget_options_language_position_colour(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/widget-demo?lang=en&position=left&color=%23b45309&title=Ask+HR")
    button = page.locator("#rag-widget button.open")
    expect(button).to_have_attribute("aria-label", "Ask about the news")
    assert button.bounding_box()["x"] < 100  # bottom left
    assert page.evaluate("getComputedStyle(document.querySelector('#rag-widget').shadowRoot.querySelector('.open')).backgroundColor") == "rgb(180, 83, 9)"
    button.click()
    expect(page.locator("#rag-widget .title")).to_have_text("Ask HR")
    chat = page.frame_locator("#rag-widget iframe")
    expect(chat.locator("#rag-question textarea")).to_have_attribute("placeholder", re.compile("Ask a question"))
    ask(chat, "Where was the CSTO Collective Security Council session held?")
    expect(wait_answers(chat, 1).locator(".rag-answer")).to_contain_text("Душанбе")
    shot(page, "12-widget-english-left")


def test_widget_on_a_phone_fills_the_screen(new_page, visits, live_server):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(live_server + "/widget-demo")
    page.locator("#rag-widget button.open").click()
    panel = page.locator("#rag-widget .panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box["width"] == 390 and box["height"] >= 800
    chat = page.frame_locator("#rag-widget iframe")
    ask(chat, "Сколько конфликтов было в мире за прошлый год?")
    expect(wait_answers(chat, 1).locator(".rag-answer")).to_contain_text("183")
    expect(chat.locator("#rag-question textarea")).to_be_in_viewport()
    shot(page, "13-widget-mobile")


def test_widget_behind_a_url_prefix_with_a_token(new_page, visits, guarded_server):
    page = new_page()
    origin = guarded_server.removesuffix("/rag")
    page.goto(f"{guarded_server}/widget-demo?token={WEB_TOKEN}")
    page.locator("#rag-widget button.open").click()
    chat = page.frame_locator("#rag-widget iframe")
    ask(chat, "Где прошла сессия ОДКБ?")
    answer = wait_answers(chat, 1)
    expect(answer.locator(".rag-answer")).to_contain_text("Душанбе")
    expect(answer.locator("a.rag-cite").first).to_have_attribute("href", re.compile(r"^/rag/sources/"))
    shot(page, "14-widget-behind-prefix")
    ours = [u for u in visits["requests"] if u.startswith(origin)]
    assert ours and all(u.startswith(guarded_server + "/") for u in ours), [u for u in ours if not u.startswith(guarded_server + "/")]
    assert_offline(visits, origin)


def test_widget_without_the_token_gets_no_chat(new_page, visits, guarded_server):
    page = new_page()
    response = page.goto(f"{guarded_server}/embed/ru/")
    assert response.status == 401
    expect(page.locator("body")).to_contain_text("Нужен ключ доступа")


def test_openapi_page_renders_without_internet(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/ask")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/health")).to_be_visible()
    shot(page, "15-openapi-page")
    assert_offline(visits, live_server)


def test_a_question_about_a_documents_date_is_answered_from_its_metadata(new_page, visits, live_server):
    page = new_page()
    page.goto(live_server + "/")
    ask(page, "Когда вышла статья Tengrinews о беженцах?")
    answer = wait_answers(page, 1)
    expect(answer.locator(".rag-answer")).to_have_text(f"{ODKB_TITLE}: 16 сентября 2021.")
    expect(answer.locator("a.rag-cite").first).to_have_text(f"Tengrinews.kz · 16 сентября 2021 · {ODKB_TITLE}")
    expect(answer.locator(".rag-quote").first).to_have_text(f"«{ODKB_TITLE}»")
    shot(page, "12-chat-document-date")
