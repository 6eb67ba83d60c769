"""Issue 28, the pages a reader meets off the main road, in the newsletter's language: the address-change page
(the newsletter whose mail brought the link, even once it expired) and the error pages (404, 405, a crash, the
guards' refusals), while the console, the REST API and the ops endpoints keep their English answers."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import timedelta

import lxml.html
import pytest
from conftest import SECRET
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.testclient import TestClient

from digest.config import load_settings
from digest.flows.runtime import Runtime
from digest.web.app import create_app
from subscribers import make_unsubscribe_token
from test_languages import _config, _english_left, _mail, _page_lang, _visible, make_site

OPERATOR = ["Kyiv Ledger", "1 Khreshchatyk St, Kyiv"]


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path)


def _reader_id(rt, address: str) -> int:
    from sqlalchemy import select
    from subscribers.models import Subscriber
    with rt.sessions() as session:
        return session.scalar(select(Subscriber.id).where(Subscriber.email == address))


def _aged(token: str, hours: int) -> str:
    """The same move link as if mailed `hours` ago (itsdangerous reads its own clock, not the app's)."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - hours * 3600

    serializer = URLSafeTimedSerializer(SECRET, salt="digest address change", signer=Then)  # as subscribers/address
    return serializer.dumps(serializer.loads(token))


def _heading(html: str) -> str:
    return lxml.html.fromstring(html).findtext(".//h1")


def test_the_address_change_speaks_the_newsletter_its_mail_came_from(site):
    rt, transport, client = site
    token = make_unsubscribe_token(SECRET, _reader_id(rt, "olena@example.com"), "vechir")
    mine = client.get(f"/preferences/{token}")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', mine.text).group(1)
    asked = client.post(f"/preferences/{token}", data={"csrf": csrf, "action": "change_address",
                                                       "new_email": "olena.nova@example.com"})
    assert asked.status_code == 200 and _page_lang(asked.text) == ("uk", "ltr")
    mail = _mail(transport, "olena.nova@example.com")
    assert mail["Content-Language"] == "uk"
    link = re.search(r"https://ledger\.example\.org(/preferences/move\?\S+)",
                     mail.get_body(("plain",)).get_content()).group(1)
    assert link.endswith("&newsletter=vechir")

    shown = client.get(link)
    assert shown.status_code == 200 and _page_lang(shown.text) == ("uk", "ltr")
    assert _heading(shown.text) == "Підтвердьте нову адресу" and "Підтвердити нову адресу" in shown.text
    assert _english_left(_visible(shown.text), OPERATOR) == []
    move_token = re.search(r"token=([^&]+)", link).group(1)
    refused = client.post("/preferences/move", data={"token": move_token + "x", "newsletter": "vechir"})
    assert refused.status_code == 400 and _page_lang(refused.text) == ("uk", "ltr")
    assert _heading(refused.text) == "Не змінено" and "Посилання недійсне." in refused.text

    expired_link = link.replace(move_token, _aged(move_token, rt.settings.web.token_ttl_hours + 1))
    expired = client.get(expired_link)  # the link expired: still her language (it names her newsletter)
    assert expired.status_code == 400 and _page_lang(expired.text) == ("uk", "ltr")
    assert "Термін дії посилання минув." in expired.text and _heading(expired.text) == "Недійсне посилання"
    unnamed = client.get(expired_link.replace("=vechir", "=nowhere"))  # a newsletter of ours, else the site's
    assert _page_lang(unnamed.text) == ("en", "ltr") and "This link has expired." in unnamed.text


def test_error_pages_speak_the_newsletter_the_path_names_or_the_sites(site):
    _rt, _transport, client = site
    for path, language, words in (("/newsletters/vechir/extra", "uk", "Такої сторінки немає."),
                                  ("/issues/akhbar/2026-12-01/x", "ar", "هذه الصفحة غير موجودة."),
                                  ("/no-such-page", "en", "There is no such page."),
                                  ("/newsletters/nowhere/extra", "en", "There is no such page.")):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html"), path
        assert _page_lang(answer.text)[0] == language and words in answer.text, path
        assert "Content-Security-Policy" in answer.headers and "X-Frame-Options" in answer.headers
    reopened = client.get("/subscribe")  # a reader reopening the signup answer from the address bar
    assert reopened.status_code == 405 and reopened.headers["allow"] == "POST"
    assert _heading(reopened.text) == "This page opens from a form" and 'href="/"' in reopened.text
    posted = client.post("/newsletters/vechir")
    assert posted.status_code == 405 and _heading(posted.text) == "Ця сторінка відкривається з форми"
    assert _english_left(_visible(posted.text), OPERATOR) == []
    elsewhere = client.post("/subscribe", data={"newsletter": "vechir", "email": "a@example.com"},
                            headers={"Origin": "https://elsewhere.example.net"})
    assert elsewhere.status_code == 403 and "This form was sent from another website." in elsewhere.text
    too_big = client.post("/embed/vechir", content=b"email=" + b"x" * 20_000,  # over web.max_body_bytes
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert too_big.status_code == 413 and _page_lang(too_big.text) == ("uk", "ltr")
    assert "Ви надіслали забагато даних." in too_big.text

    # not for readers: the console, the API and the ops endpoints answer as before, in plain English
    for path in ("/api/v1/nothing", "/api/subscribe", "/healthz"):
        plain = client.request("PUT", path)
        assert plain.headers["content-type"].startswith("text/plain") and plain.text in (
            "Not Found", "Method Not Allowed"), path
    api_post = client.post("/api/v1/x", content=b"{}" + b" " * 20_000, headers={"Content-Type": "application/json"})
    assert api_post.status_code == 413 and api_post.text == "Request body too large."


def test_a_crash_answers_a_page_in_the_readers_language(tmp_path):
    config = _config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace('language = "en"\n', 'language = "de"\n', 1),
                      encoding="utf-8")
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = Runtime.create(settings)
    client = TestClient(create_app(settings, rt.sessions, rt.transport_factory), raise_server_exceptions=False,
                        base_url="https://ledger.example.org")
    assert client.get("/issues/vechir").status_code == 200
    with sqlite3.connect(tmp_path / "digest.db") as db:  # the database loses a table under the running app
        db.execute("ALTER TABLE issues RENAME TO issues_gone")
    crashed = client.get("/issues/vechir")
    assert crashed.status_code == 500 and _page_lang(crashed.text) == ("uk", "ltr")
    assert _heading(crashed.text) == "Щось пішло не так"
    site_wide = client.get("/newsletters/nowhere/at/all")  # the site's own language: German here
    assert site_wide.status_code == 404 and _page_lang(site_wide.text) == ("de", "ltr")
    assert "Diese Seite gibt es nicht." in site_wide.text


def test_an_expired_or_used_confirmation_link_speaks_its_newsletters_language(site):
    rt, transport, client = site
    assert client.post("/api/subscribe", data={"newsletter": "vechir", "email": "ivan@example.com"}).json()["ok"]
    link = re.search(r"https://ledger\.example\.org(/confirm\?token=\S+)",
                     _mail(transport, "ivan@example.com").get_body(("plain",)).get_content()).group(1)
    token = link.split("token=")[1]
    rt.now.now += timedelta(hours=rt.settings.web.token_ttl_hours + 1)  # the app's clock: the link expires
    expired = client.get(link)
    assert expired.status_code == 410 and _page_lang(expired.text) == ("uk", "ltr")
    assert _heading(expired.text) == "Термін дії посилання минув" and "Надіслати нове посилання" in expired.text
    assert _english_left(_visible(expired.text), OPERATOR) == []
    pressed = client.post("/confirm", data={"token": token})  # the button of a page opened before it expired
    assert pressed.status_code == 410 and _page_lang(pressed.text) == ("uk", "ltr")
    renewed = client.post("/confirm/renew", data={"token": token})
    assert renewed.status_code == 200 and _heading(renewed.text) == "Перевірте пошту"
    again = client.post("/confirm/renew", data={"token": token})  # that link was traded for the new one
    assert again.status_code == 400 and _page_lang(again.text) == ("uk", "ltr")
    assert _heading(again.text) == "Недійсне посилання"
    used = client.get(link)
    assert used.status_code == 400 and "Це посилання для підтвердження вже використано" in used.text
    nowhere = client.get("/confirm?token=not-a-token")  # no newsletter behind it: the site's language
    assert nowhere.status_code == 400 and _page_lang(nowhere.text) == ("en", "ltr")


def test_unsubscribing_and_its_refusals_speak_the_newsletter_the_link_names(site):
    rt, _transport, client = site
    olena, ann = _reader_id(rt, "olena@example.com"), _reader_id(rt, "ann@example.com")
    token = make_unsubscribe_token(SECRET, olena, "vechir")
    left = client.post("/unsubscribe", data={"token": token})
    assert left.status_code == 200 and _page_lang(left.text) == ("uk", "ltr")
    form = lxml.html.fromstring(left.text).xpath("//form[@action='/unsubscribe/undo']")[0]
    assert form.xpath(".//input[@name='newsletter']/@value") == ["vechir"]
    wrong = client.post("/unsubscribe/undo", data={"token": "u1.nothing", "newsletter": "vechir"})
    assert wrong.status_code == 400 and _heading(wrong.text) == "Недійсне посилання"
    assert "Посилання для скасування недійсне." in wrong.text
    stranger = client.post("/unsubscribe/undo", data={"token": "u1.nothing", "newsletter": "../admin"})
    assert stranger.status_code == 400 and _page_lang(stranger.text) == ("en", "ltr")  # not one of ours: the site's

    not_held = make_unsubscribe_token(SECRET, ann, "vechir")  # a genuine link for a subscription we do not hold
    page = client.get(f"/unsubscribe?token={not_held}")
    assert page.status_code == 400 and _page_lang(page.text) == ("uk", "ltr")
    assert "За цим посиланням у нас немає підписки" in page.text
    one_click = client.post(f"/unsubscribe?token={not_held}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 400 and one_click.headers["content-language"] == "uk"
    assert one_click.text.startswith("За цим посиланням у нас немає підписки")
    forged = client.get("/unsubscribe?token=u1.forged")  # no newsletter behind it: the site's language
    assert forged.status_code == 400 and _page_lang(forged.text) == ("en", "ltr")
