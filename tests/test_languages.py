"""Newsletters in their readers' language (issue 28): complete catalogs, one site with a Ukrainian, an English and
an Arabic newsletter rendered and served in one process, each in its own language throughout, and the splitter
on real texts in Ukrainian, German, French, Spanish and Arabic."""

from __future__ import annotations

import email
import email.policy
import io
import re
import textwrap
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import lxml.html
import pytest
from babel.dates import format_date
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from conftest import DATA, REPO, SECRET, Clock, free_port, serving
from sqlalchemy import select
from starlette.testclient import TestClient

from digest.config import load_settings
from digest.deliver.transports import MemoryTransport
from digest.errors import ConfigError
from digest.flows import sending
from digest.flows.runtime import Runtime
from digest.render.i18n import BUNDLED, LOCALE_DIR
from digest.summarize.extractive import summarize
from digest.summarize.split import split_sentences, units
from digest.web.app import create_app
from subscribers import Origin, add_subscriber, make_unsubscribe_token
from subscribers.models import Subscriber

PLACEHOLDER = re.compile(r"%\((\w+)\)s")

# Short news texts written for these tests (ours, no one else's rights), each a list of paragraphs of sentences:
# the splitter must give back exactly these sentences, none cut at "вул.", "т. д.", "z. B.", "M.", "p. ej.", "Sra."
TEXTS = {
    "uk": [
        ["Київська міська рада у вівторок ухвалила програму відновлення шкіл, пошкоджених під час обстрілів.",
         "На ремонт укриттів, вікон і систем опалення цього року спрямують 1,2 млрд грн."],
        ["За словами заступника міського голови, роботи почнуться із закладів у Деснянському та Дарницькому районах.",
         "Першим відремонтують ліцей на вул. Закревського, де торік узимку вибухова хвиля вибила понад триста вікон."],
        ["Програма передбачає й дрібніші витрати: генератори, запаси води, аптечки і т. д. на кожен поверх.",
         "Директори шкіл мають подати заявки до 15 березня."],
        ["Депутати від опозиції критикували документ за відсутність чітких строків.",
         "«Без графіка ми знову отримаємо ремонт, який затягнеться на роки», — сказала депутатка Олена Мороз."],
        ["Перший звіт про витрачені кошти мерія представить батькам у парку ім. Шевченка наприкінці квітня."],
    ],
    "de": [
        ["Der Berliner Senat hat am Dienstag ein Programm zur Sanierung von Schulgebäuden beschlossen.",
         "Bis 2028 sollen rund 450 Mio. Euro in Dächer, Fenster und Heizungen fließen."],
        ["Besonders betroffen sind ältere Gebäude in Neukölln und Spandau, z. B. die Grundschule an der Weserstraße.",
         "Dort fällt seit Jahren im Winter immer wieder die Heizung aus."],
        ["Bildungssenatorin Dr. Anna Keller sagte, man wolle zuerst die Schulen mit den größten Mängeln sanieren.",
         "Die Bezirke sollen ihre Listen bis zum 15. März einreichen."],
        ["Kritik kam von den Elternvertretungen.",
         "Das Geld reiche nicht aus, u. a. weil die Baupreise weiter stiegen, sagte ein Sprecher.",
         "Der Senat will im Herbst prüfen, ob die Mittel aufgestockt werden."],
    ],
    "fr": [
        ["Le conseil municipal de Lyon a adopté mardi un plan de rénovation des écoles primaires.",
         "Près de 80 millions d’euros seront consacrés aux toitures, aux fenêtres et au chauffage d’ici 2028."],
        ["Selon M. Dupont, adjoint chargé de l’éducation, les travaux commenceront par les bâtiments les plus anciens "
         "de la Croix-Rousse.",
         "Les familles seront informées avant chaque chantier."],
        ["L’opposition juge le calendrier trop flou.",
         "« Nous voulons des dates précises, école par école », a déclaré Mme Martin lors du débat."],
        ["La ville publiera chaque trimestre un bilan des dépenses, p. ex. le coût des fenêtres remplacées.",
         "Le premier rapport est attendu en juin."],
    ],
    "es": [
        ["El Ayuntamiento de Madrid aprobó el martes un plan para reformar los colegios públicos más antiguos de la "
         "ciudad.",
         "La inversión prevista ronda los 60 millones de euros hasta 2028."],
        ["Según la concejala de Educación, la Sra. López, las obras empezarán por los centros de Vallecas y Carabanchel.",
         "Se priorizarán los tejados, las ventanas y la calefacción, p. ej. en los edificios construidos antes de 1980."],
        ["La oposición criticó que el plan no incluya un calendario detallado.",
         "«Las familias necesitan saber cuándo empiezan las obras», dijo el portavoz del grupo municipal."],
        ["El consistorio publicará cada tres meses un informe con los gastos realizados.",
         "El primero se presentará en junio."],
    ],
    "ar": [
        ["أقرّ المجلس البلدي في عمّان يوم الثلاثاء خطة لترميم المدارس الحكومية القديمة.",
         "وتبلغ قيمة الخطة نحو 30 مليون دينار على مدى أربع سنوات."],
        ["وقال د. خالد العمري، رئيس لجنة التعليم، إن الأعمال ستبدأ بالمدارس التي تعاني من تسرب المياه وضعف التدفئة.",
         "وستُنشر قائمة المدارس الأولى في الشهر المقبل."],
        ["وانتقد أعضاء في المجلس غياب جدول زمني واضح.",
         "وقالت إحدى العضوات: «نريد مواعيد محددة لكل مدرسة»."],
        ["وتعهدت البلدية بنشر تقرير عن النفقات كل ثلاثة أشهر.",
         "ومن المتوقع صدور التقرير الأول في حزيران."],
    ],
}


def _text(language: str) -> tuple[str, list[str]]:
    paragraphs = TEXTS[language]
    return "\n\n".join(" ".join(p) for p in paragraphs), [s for p in paragraphs for s in p]


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_sentences_stay_whole_in_each_language(language):
    text, sentences = _text(language)
    assert split_sentences(text) == sentences
    assert all(unit.prose for unit in units(text))
    summary = summarize(text, max_sentences=3)
    assert len(summary) == 3 and all(sentence in sentences for sentence in summary)


# -- the catalogs ----------------------------------------------------------------------------------------------

def _extracted() -> dict[str, tuple[str, ...]]:
    """What the code and templates ask to translate now, extracted as `pybabel extract -F babel.cfg` does."""
    method_map, options_map = parse_mapping_cfg(io.StringIO((REPO / "babel.cfg").read_text()))
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(str(REPO), method_map, options_map):
        ids = message if isinstance(message, tuple) else (message,)
        found[ids[0]] = tuple(ids)
    return found


def _catalog(language: str):
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "digest.po", "rb") as po:
        return read_po(po, locale=language)


@pytest.mark.parametrize("language", BUNDLED)
def test_catalog_has_every_message_and_its_placeholders(language):
    wanted, catalog = _extracted(), _catalog(language)
    held = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}
    assert sorted(set(wanted) - set(held)) == [], "messages missing: pybabel extract, update, translate, compile"
    assert sorted(set(held) - set(wanted)) == [], "messages nobody asks for any more"
    for key, ids in wanted.items():
        message = held[key]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, (language, key)
        assert len(strings) == (catalog.num_plurals if len(ids) > 1 else 1), (language, key)
        names = set(PLACEHOLDER.findall(" ".join(ids)))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == names, (language, key, string)
            assert string % {name: "x" for name in names}  # no stray % either


@pytest.mark.parametrize("language", BUNDLED)
def test_compiled_catalog_is_its_po(language):
    """The .mo files are committed (the wheel carries them, `pip install .` needs no build step): they must be
    what `pybabel compile -d digest/locale -D digest` makes of the .po files."""
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(language))
    assert (LOCALE_DIR / language / "LC_MESSAGES" / "digest.mo").read_bytes() == compiled.getvalue()


def test_language_tags_are_checked(tmp_path):
    base = (REPO / "config.toml").read_text()
    for bad in ("xx-Nowhere", "english", ""):
        path = tmp_path / "config.toml"
        path.write_text(base.replace('language = "en"\n', f'language = "{bad}"\n', 1))
        with pytest.raises(ConfigError, match="site.language"):
            load_settings(path)
    settings = load_settings(REPO / "config.toml")
    assert settings.site.language == "en" and {n.language for n in settings.newsletters} == {"en"}
    for texts, wrong in (('[["Read mroe: %(title)s", "x"]]', "no such text"), ('[["Read more: %(title)s"]]', "pairs"),
                         ('[["Read more: %(title)s", "Далі"]]', "must fill exactly title"),
                         ('[["Subscribe", "100% free"]]', "no other %")):
        path.write_text(base.replace("texts = [[", f"texts = {texts}\n# [[", 1))
        with pytest.raises(ConfigError, match=re.escape(wrong)):
            load_settings(path)


# -- one site, three languages -----------------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)


def _feed(language: str, base: str) -> str:
    items = []
    for n, paragraph in enumerate(TEXTS[language]):
        title = paragraph[0].split(",")[0].rstrip(".")[:60]
        date = format_datetime(NOW - timedelta(hours=n + 1))
        body = "".join(f"<p>{' '.join(p)}</p>" for p in TEXTS[language][n:] + TEXTS[language][:n])
        items.append(f"<item><title>{title}</title><link>{base}/{language}/{n}</link><guid>{language}-{n}</guid>"
                     f"<pubDate>{date}</pubDate><description><![CDATA[{body}]]></description></item>")
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{language}</title>' \
           f"<link>{base}/</link><description>-</description>{''.join(items)}</channel></rss>"


def _config(folder: Path, base: str = "https://ledger.example.org", smtp_port: int = 0) -> Path:
    (folder / "uk.xml").write_text(_feed("uk", base), encoding="utf-8")
    (folder / "ar.xml").write_text(_feed("ar", base), encoding="utf-8")
    (folder / "wire.xml").write_text((DATA / "wire.xml").read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "config.toml"
    path.write_text(textwrap.dedent(f"""\
        [site]
        name = "Kyiv Ledger"
        base_url = "{base}"
        postal_address = "1 Khreshchatyk St, Kyiv"
        unsubscribe_mailbox = "unsubscribe@ledger.example.org"
        language = "en"

        [storage]
        url = "sqlite:///digest.db"

        [delivery]
        transport = "{'smtp' if smtp_port else 'file'}"
        processes = 1

        [delivery.smtp]
        port = {smtp_port or 25}

        [gather]
        first_run_max_items = 50
        first_run_max_age_days = 0
        max_pages_per_source = 0

        [[newsletters]]
        slug = "vechir"
        title = "Вечірній Київ"
        description = "Головне за день."
        from_address = "Вечірній Київ <vechir@ledger.example.org>"
        language = "uk"
        timezone = "Europe/Kyiv"
        top_stories = 1
        welcome_email = true
        texts = [["View in your browser", "Читати на сайті"], ["Subscribe", "Хочу отримувати"]]

        [[newsletters.sources]]
        name = "Стрічка"
        url = "uk.xml"

        [[newsletters]]
        slug = "daily"
        title = "Ledger Daily"
        from_address = "Ledger Daily <daily@ledger.example.org>"
        language = "en"
        top_stories = 1

        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"

        [[newsletters]]
        slug = "akhbar"
        title = "أخبار المدينة"
        from_address = "أخبار المدينة <akhbar@ledger.example.org>"
        language = "ar"
        timezone = "Asia/Amman"

        [[newsletters.sources]]
        name = "الموجز"
        url = "ar.xml"
        """), encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path)


def make_site(tmp_path: Path):
    """(runtime, its memory transport, a client of the web app) of the three-language site, a reader on each."""
    settings = load_settings(_config(tmp_path), environ={"DIGEST_SECRET_KEY": SECRET})
    transport, clock = MemoryTransport(), Clock(NOW)
    rt = replace(Runtime.create(settings), transport_factory=lambda: transport, now=clock)
    with rt.sessions() as session, session.begin():
        for address, slug in (("olena@example.com", "vechir"), ("ann@example.com", "daily"),
                              ("sami@example.com", "akhbar")):
            add_subscriber(session, address, slug, confirmed=True, origin=Origin("test"))
    app = create_app(settings, rt.sessions, rt.transport_factory, now=clock, mailer=lambda job: job())
    return rt, transport, TestClient(app, base_url="https://ledger.example.org")


def _mail(transport, address: str) -> email.message.EmailMessage:
    raw = [raw for _sender, to, raw in transport.messages if to == address][-1]
    return email.message_from_bytes(raw, policy=email.policy.default)


def _visible(html: str) -> str:
    tree = lxml.html.fromstring(html)
    for node in tree.xpath("//style|//script|//head"):
        node.drop_tree()
    return " ".join(tree.text_content().split())


def _english_left(text: str, operator: list[str]) -> list[str]:
    """Catalog texts left in English, and any Latin-script word that is neither the operator's nor a time zone."""
    for words in sorted(operator, key=len, reverse=True):
        text = text.replace(words, " ")
    text = re.sub(r"https?://\S+|\S+@\S+", " ", text)
    left = []
    for message in _catalog("en"):
        for english in (message.id if isinstance(message.id, tuple) else (message.id,)):
            for piece in PLACEHOLDER.split(english)[::2]:
                piece = piece.strip(" .,:;?*")
                if len(piece) > 3 and re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text):
                    left.append(piece)
    return left + [word for word in re.findall(r"[A-Za-z]{2,}", text) if word not in ("EET", "UTC")]


def test_a_ukrainian_and_an_english_newsletter_in_one_run(site):
    rt, transport, _client = site
    for slug in ("vechir", "daily", "akhbar"):  # one process, one template environment, one after another
        assert sending.send_newsletter(rt, slug, slot="s1").new_issue_id

    uk = _mail(transport, "olena@example.com")
    assert uk["Content-Language"] == "uk" and "груд" in uk["Subject"]
    html, text = uk.get_body(("html",)).get_content(), uk.get_body(("plain",)).get_content()
    assert '<html lang="uk" dir="ltr">' in html
    day = format_date(NOW.astimezone(timezone(timedelta(hours=2))), "full", locale="uk")
    for words in ("Читати на сайті", "Читати далі:", "Керувати підписками", day):  # the first, the operator's
        assert words in html and words in text, words
    assert "Відкрити в браузері" not in html
    for words in ("Відписатися від Вечірній Київ", "Попередні випуски Вечірній Київ", ">Головне<"):
        assert words in html, words
    assert "\r\nГОЛОВНЕ\r\n" in text and "\r\nВідписатися: https://" in text
    operator = ["Вечірній Київ", "Kyiv Ledger", "KYIV LEDGER", "1 Khreshchatyk St, Kyiv", "Стрічка", "Головне за день."]
    assert _english_left(_visible(html), operator) == []
    assert _english_left(text, operator) == []

    en = _mail(transport, "ann@example.com")
    assert en["Content-Language"] == "en" and '<html lang="en" dir="ltr">' in en.get_body(("html",)).get_content()
    english = en.get_body(("plain",)).get_content()
    assert "Read more: " in english and "Manage your subscriptions: " in english and "TOP STORIES" in english
    assert not re.search(r"[\u0400-\u04ff]", english)  # nothing Ukrainian leaked into the English edition

    ar = _mail(transport, "sami@example.com")
    arabic = ar.get_body(("html",)).get_content()
    assert ar["Content-Language"] == "ar" and '<html lang="ar" dir="rtl">' in arabic
    assert "إدارة اشتراكاتك" in arabic and "اقرأ المزيد" in arabic


def _page_lang(html: str) -> tuple[str, str]:
    root = lxml.html.fromstring(html)
    return root.get("lang"), root.get("dir")


def test_pages_and_mail_of_the_signup_flow_speak_the_newsletters_language(site):
    rt, transport, client = site
    home = client.get("/")
    assert _page_lang(home.text) == ("en", "ltr") and "Already subscribed?" in home.text
    boxes = lxml.html.fromstring(home.text)
    uk_box, ar_box = (boxes.get_element_by_id(f"title-{slug}").getparent() for slug in ("vechir", "akhbar"))
    assert (uk_box.get("lang"), ar_box.get("lang"), ar_box.get("dir")) == ("uk", "ar", "rtl")
    assert "Хочу отримувати" in uk_box.text_content() and "اشترك" in ar_box.text_content()

    page = client.get("/newsletters/vechir")
    assert _page_lang(page.text) == ("uk", "ltr") and "Уже підписані?" in page.text
    assert _english_left(_visible(page.text), ["Вечірній Київ", "Kyiv Ledger", "1 Khreshchatyk St, Kyiv",
                                               "Головне за день."]) == []
    assert _page_lang(client.get("/newsletters/akhbar").text) == ("ar", "rtl")
    assert _page_lang(client.get("/embed/akhbar").text) == ("ar", "rtl")

    wrong = client.post("/subscribe", data={"newsletter": "vechir", "email": "nope", "single": "1"})
    assert wrong.status_code == 400 and "Будь ласка, введіть правильну електронну адресу" in wrong.text
    assert _page_lang(wrong.text) == ("uk", "ltr")
    joined = client.post("/api/subscribe", data={"newsletter": "vechir", "email": "taras@example.com"})
    assert joined.json() == {"ok": True, "message": "Дякуємо за підписку на цю розсилку. Ми надіслали вам листа для "
                                                    "підтвердження."}
    confirmation = _mail(transport, "taras@example.com")
    assert confirmation["Content-Language"] == "uk"
    assert confirmation["Subject"] == "Підтвердьте підписку на Вечірній Київ"
    assert '<html lang="uk" dir="ltr">' in confirmation.get_body(("html",)).get_content()
    body = confirmation.get_body(("plain",)).get_content()
    assert "Посилання діє 48 годин." in body
    link = re.search(r"https://ledger\.example\.org(/confirm\?token=\S+)", body).group(1)
    shown = client.get(link)
    assert _page_lang(shown.text) == ("uk", "ltr") and "Підтвердити підписку" in shown.text
    done = client.post("/confirm", data={"token": re.search(r"token=(\S+)", link).group(1)})
    assert "Підписку оформлено" in done.text and "Перший випуск надійде" in done.text
    welcome = _mail(transport, "taras@example.com")
    assert welcome["Subject"] == "Ласкаво просимо до Вечірній Київ" and welcome["Content-Language"] == "uk"

    with rt.sessions() as session:
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())
    token = make_unsubscribe_token(SECRET, ids["olena@example.com"], "vechir")
    leave = client.get(f"/unsubscribe?token={token}")
    assert _page_lang(leave.text) == ("uk", "ltr") and "Припинити отримувати Вечірній Київ?" in leave.text
    mine = client.get(f"/preferences/{token}")
    assert _page_lang(mine.text) == ("uk", "ltr") and "Ваші підписки" in mine.text and "1 тиждень" in mine.text
    arabic = client.get(f"/preferences/{make_unsubscribe_token(SECRET, ids['sami@example.com'], 'akhbar')}")
    assert _page_lang(arabic.text) == ("ar", "rtl") and "اشتراكاتك" in arabic.text
    one_click = client.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.text == "Ви відписалися від Вечірній Київ." and one_click.headers["content-language"] == "uk"


# -- a real browser: the Ukrainian and Arabic pages, axe at both widths ------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
SIGNUP = {  # language: (slug, subscribe button, bad address answer, confirm button, heading once confirmed)
    "uk": ("vechir", "Хочу отримувати", "Будь ласка, введіть правильну електронну адресу", "Підтвердити підписку",
           "Підписку оформлено"),
    "ar": ("akhbar", "اشترك", "يُرجى إدخال بريد إلكتروني صحيح", "تأكيد الاشتراك", "تم الاشتراك بنجاح"),
}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_ukrainian_and_arabic_pages_in_a_real_browser(tmp_path, smtp_server):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from test_browser import LAUNCH_ARGS, axe_violations, wait_for

    port = free_port()
    settings = load_settings(_config(tmp_path, f"http://127.0.0.1:{port}", smtp_server.port),
                             environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    shots = tmp_path / "shots"
    shots.mkdir()
    with serving(create_app(settings, rt.sessions, rt.transport_factory), port), \
            playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 375, "height": 800})

        def audit(name: str) -> None:
            for width in (375, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                assert axe_violations(page) == [], (name, width)
                page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            page.set_viewport_size({"width": 375, "height": 800})

        for language, (slug, subscribe, bad, confirm, confirmed) in SIGNUP.items():
            page.goto(f"http://127.0.0.1:{port}/newsletters/{slug}")
            assert page.locator("html").get_attribute("lang") == language
            audit(f"signup-{language}")
            form = page.locator("form.signup")
            form.locator("input[type=email]").fill("not-an-address")
            form.get_by_role("button", name=subscribe).click()
            playwright_api.expect(form.get_by_role("status")).to_have_text(bad)
            address = f"reader-{language}@example.com"
            form.locator("input[type=email]").fill(address)
            form.get_by_role("button", name=subscribe).click()
            assert wait_for(lambda: any(m.rcpt_tos == [address] for m in smtp_server.messages))
            mail = next(m.message for m in smtp_server.messages if m.rcpt_tos == [address])
            assert mail["Content-Language"] == language
            link = re.search(r"(http://127\.0\.0\.1:\d+/confirm\?token=\S+)", mail.get_body(("plain",)).get_content())
            page.goto(link.group(1))
            audit(f"confirm-{language}")
            page.get_by_role("button", name=confirm).click()
            playwright_api.expect(page.get_by_role("heading", level=1)).to_have_text(confirmed)

            with rt.sessions() as session:
                reader = session.scalar(select(Subscriber.id).where(Subscriber.email == address))
            token = make_unsubscribe_token(SECRET, reader, slug)
            page.goto(f"http://127.0.0.1:{port}/preferences/{token}")
            assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
            audit(f"preferences-{language}")
            page.goto(f"http://127.0.0.1:{port}/unsubscribe?token={token}")
            audit(f"unsubscribe-{language}")
        browser.close()


def test_the_weekly_roundup_is_titled_in_the_newsletters_language(tmp_path):
    from digest.flows import roundup

    settings = load_settings(_config(tmp_path), environ={"DIGEST_SECRET_KEY": SECRET})
    assert roundup.title(settings.newsletter("vechir")) == "Вечірній Київ: підсумки тижня"
    assert roundup.title(settings.newsletter("daily")) == "Ledger Daily: the week"
    assert roundup.title(settings.newsletter("akhbar")) == "أخبار المدينة: حصاد الأسبوع"
