"""The audience layer on a real SQLite file: opt-in states, tokens, consent record, CSV, erasure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import run_cli, write_config
from sqlalchemy import select

from digest.db import create_schema, make_engine, make_sessionmaker
from subscribers import (
    ConsentEvent,
    InvalidAddress,
    InvalidToken,
    OptInToken,
    Origin,
    Subscriber,
    SubscriberError,
    SubscriptionStatus,
    TokenExpired,
    add_subscriber,
    confirm_signup,
    confirmed_recipients,
    export_csv,
    export_person,
    forget_person,
    import_csv,
    list_subscriptions,
    make_unsubscribe_token,
    normalize_address,
    peek_confirmation,
    read_unsubscribe_token,
    renew_expired,
    request_signup,
    subscriptions_for_export,
    undo_unsubscribe,
    unsubscribe_by_link,
)

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
WEB = Origin("web", ip="203.0.113.7", user_agent="Firefox")


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'subs.db'}")
    create_schema(engine)
    return make_sessionmaker(engine)


def signup(sessions, address="Ann@Example.COM", newsletter="daily", now=NOW, **kwargs):
    with sessions() as session, session.begin():
        return request_signup(session, address, newsletter, WEB, now=now, **kwargs)


def events(sessions):
    with sessions() as session:
        return [(e.newsletter, e.kind, e.ip) for e in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]


def test_double_opt_in_from_request_to_confirmed(sessions):
    result = signup(sessions)
    assert result.email == "ann@example.com" and len(result.token) >= 43  # 256 random bits, url-safe
    with sessions() as session:
        assert confirmed_recipients(session, "daily") == []
        stored = session.scalar(select(OptInToken.token_hash))
        assert result.token not in stored and len(stored) == 64  # only the hash is stored
        # A GET (peek) changes nothing.
        assert peek_confirmation(session, result.token, now=NOW).status is SubscriptionStatus.pending
    with sessions() as session, session.begin():
        confirm_signup(session, result.token, WEB, now=NOW + timedelta(minutes=5))
    with sessions() as session:
        assert [email for _i, email in confirmed_recipients(session, "daily")] == ["ann@example.com"]
    # Single use: a second POST shows success but records nothing new; the link never works for anyone else.
    with sessions() as session, session.begin():
        confirm_signup(session, result.token, WEB, now=NOW + timedelta(minutes=6))
    assert events(sessions) == [("daily", "requested", "203.0.113.7"), ("daily", "confirmed", "203.0.113.7")]


def test_same_answer_for_new_pending_and_confirmed_and_never_back_to_pending(sessions):
    first = signup(sessions)
    again = signup(sessions)  # pending: a new link, the old one stops working
    assert again.token and again.token != first.token
    with sessions() as session, pytest.raises(InvalidToken):
        peek_confirmation(session, first.token, now=NOW)
    with sessions() as session, session.begin():
        confirm_signup(session, again.token, WEB, now=NOW)
    confirmed = signup(sessions)
    assert confirmed.token is None  # nothing is sent to a confirmed reader...
    with sessions() as session:  # ...and they stay confirmed
        assert list_subscriptions(session) == [("ann@example.com", "daily", SubscriptionStatus.confirmed)]
    assert [kind for _n, kind, _ip in events(sessions)] == ["requested", "resent", "confirmed", "requested"]


def test_confirmation_emails_per_address_are_rate_limited(sessions):
    tokens = [signup(sessions, now=NOW + timedelta(minutes=i), max_per_hour=3).token for i in range(5)]
    assert [bool(t) for t in tokens] == [True, True, True, False, False]
    assert signup(sessions, now=NOW + timedelta(minutes=61), max_per_hour=3).token


def test_expired_link_can_be_renewed_once_in_a_while(sessions):
    old = signup(sessions, ttl=timedelta(hours=48)).token
    later = NOW + timedelta(hours=49)
    with sessions() as session, pytest.raises(TokenExpired):
        peek_confirmation(session, old, now=later)
    with sessions() as session, session.begin(), pytest.raises(TokenExpired):
        confirm_signup(session, old, WEB, now=later)
    with sessions() as session, session.begin():
        renewed = renew_expired(session, old, WEB, now=later, max_per_hour=1)
    with sessions() as session, session.begin():
        confirm_signup(session, renewed.token, WEB, now=later)
    with sessions() as session, session.begin(), pytest.raises(InvalidToken):
        renew_expired(session, old, WEB, now=later)  # the old link was replaced


def test_forged_tokens_are_refused(sessions):
    signup(sessions)
    with sessions() as session, pytest.raises(InvalidToken):
        peek_confirmation(session, "forged-token", now=NOW)
    with sessions() as session, pytest.raises(InvalidToken):
        peek_confirmation(session, "", now=NOW)


def test_one_person_many_newsletters_and_unsubscribe_with_undo(sessions):
    for newsletter in ("daily", "weekly"):
        with sessions() as session, session.begin():
            add_subscriber(session, "ann@example.com", newsletter, confirmed=True, origin=Origin("cli"), now=NOW)
    with sessions() as session:
        (subscriber_id, _), = confirmed_recipients(session, "daily")
    link = make_unsubscribe_token("secret", subscriber_id, "daily")
    with sessions() as session, session.begin():
        _subscription, undo = unsubscribe_by_link(session, "secret", link, WEB, now=NOW)
        _subscription, again = unsubscribe_by_link(session, "secret", link, WEB, now=NOW)  # idempotent
    assert undo and again is None  # only the request that unsubscribed gets an undo button
    with sessions() as session:
        assert confirmed_recipients(session, "daily") == []
        assert len(confirmed_recipients(session, "weekly")) == 1  # the other newsletter is untouched
    with pytest.raises(InvalidToken):
        with sessions() as session, session.begin():
            undo_unsubscribe(session, "secret", link, WEB, now=NOW)  # the unsubscribe link is no undo token
    with sessions() as session, session.begin():
        undo_unsubscribe(session, "secret", undo, WEB, now=NOW)
    with pytest.raises(InvalidToken, match="no longer applies"):
        with sessions() as session, session.begin():
            undo_unsubscribe(session, "secret", undo, WEB, now=NOW)  # works once
    with sessions() as session:
        assert len(confirmed_recipients(session, "daily")) == 1
    assert [kind for _n, kind, _ip in events(sessions)] == ["confirmed", "confirmed", "unsubscribed", "resubscribed"]


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "x@example.com\r\nBcc: evil@example.com", "",
                                 "a" * 330 + "@example.com", "<script>@example.com"])
def test_bad_addresses_are_refused(bad):
    with pytest.raises(InvalidAddress, match="Please, enter correct email address"):
        normalize_address(bad)


def test_unsubscribe_tokens_are_signed():
    token = make_unsubscribe_token("secret", 42, "daily")
    assert read_unsubscribe_token("secret", token) == (42, "daily")
    with pytest.raises(SubscriberError):
        read_unsubscribe_token("other secret", token)
    with pytest.raises(SubscriberError):
        read_unsubscribe_token("secret", token[:-2] + "xx")


def test_unsubscribe_tokens_are_sealed_and_name_nobody_readably():
    """Red team: the token carried `[1, 'alpha']` in readable base64. Now the id and list are sealed."""
    import base64
    import random

    from subscribers.tokens import SEALED

    rng = random.Random(7)
    for _ in range(300):
        secret = rng.choice(["secret", "s" * 64, "ünïcode-kéy"])
        subscriber_id = rng.choice([1, rng.randint(1, 10**12)])
        newsletter = rng.choice(["daily", "alpha", "a" * rng.randint(1, 200), "wéekly-ü", "x-y", ""])
        token = make_unsubscribe_token(secret, subscriber_id, newsletter)
        assert token.startswith(SEALED) and token != make_unsubscribe_token(secret, subscriber_id, newsletter)
        body = base64.urlsafe_b64decode(token[len(SEALED):] + "=" * (-len(token[len(SEALED):]) % 4))
        plain = f"{subscriber_id}\0{newsletter}".encode()
        assert plain not in body and b"[%d," % subscriber_id not in body
        assert len(newsletter) < 4 or newsletter.encode() not in body
        assert read_unsubscribe_token(secret, token) == (subscriber_id, newsletter)
        with pytest.raises(SubscriberError):
            read_unsubscribe_token(secret + "x", token)
    with pytest.raises(SubscriberError):
        read_unsubscribe_token("secret", token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))


def test_links_in_mail_sent_before_tokens_were_sealed_keep_working():
    """The earlier tokens, exactly what itsdangerous makes and reads, are still read."""
    import random

    from itsdangerous import URLSafeSerializer

    from subscribers.tokens import make_legacy_unsubscribe_token

    rng = random.Random(7)
    for _ in range(300):
        secret = rng.choice(["secret", "s" * 64, "ünïcode-kéy"])
        subscriber_id = rng.choice([1, rng.randint(1, 10**12)])
        newsletter = rng.choice(["daily", "a" * rng.randint(1, 200), "wéekly-ü", "x-y", ""])
        token = make_legacy_unsubscribe_token(secret, subscriber_id, newsletter)
        assert token == URLSafeSerializer(secret, salt="unsubscribe").dumps([subscriber_id, newsletter])
        assert read_unsubscribe_token(secret, token) == (subscriber_id, newsletter)


def test_csv_import_reports_bad_rows_and_keeps_good_ones(sessions):
    text = "name,email\nAnn,ann@example.com\nBad,not-an-email\n\nBob,BOB@example.net\nAnn again,ann@example.com\n"
    with sessions() as session, session.begin():
        report = import_csv(session, text, "daily", source="list.csv", consent_obtained=False, now=NOW)
    assert report.errors == [(3, "not a valid email address: 'not-an-email'")]
    assert [email for email, _token in report.confirmations] == ["ann@example.com", "bob@example.net",
                                                                   "ann@example.com"]
    with sessions() as session, session.begin():
        consented = import_csv(session, "carol@example.org\n", "daily", source="old.csv", consent_obtained=True,
                               now=NOW)
    assert consented.added == 1 and consented.confirmations == []
    with sessions() as session:
        assert [email for _i, email in confirmed_recipients(session, "daily")] == ["carol@example.org"]
        csv_text = export_csv(subscriptions_for_export(session, "daily", SubscriptionStatus.pending))
        details = session.scalars(select(ConsentEvent.detail).where(ConsentEvent.kind == "imported")).all()
    assert csv_text.splitlines()[0] == "email,newsletter,status,created_at,confirmed_at,unsubscribed_at"
    assert [line.split(",")[0] for line in csv_text.splitlines()[1:]] == ["ann@example.com", "bob@example.net"]
    assert "source=import:old.csv; consent obtained elsewhere (operator's statement)" in details


def test_export_and_forget_one_person(sessions):
    signup(sessions)
    with sessions() as session:
        data = export_person(session, "ANN@example.com")
    assert data["email"] == "ann@example.com"
    assert data["subscriptions"][0]["status"] == "pending"
    assert data["consent_events"][0]["ip"] == "203.0.113.7" and data["consent_events"][0]["user_agent"] == "Firefox"
    with sessions() as session, session.begin():
        assert forget_person(session, "ann@example.com")
    with sessions() as session:
        assert export_person(session, "ann@example.com") is None
        assert session.scalars(select(ConsentEvent)).all() == [] and session.scalars(select(OptInToken)).all() == []


def test_cli_add_list_remove_import_export_forget(tmp_path):
    config = write_config(tmp_path, transport="file", sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n')
    added = run_cli("subscribers", "add", "bob@example.net", "-n", "daily", "--confirmed", config=config)
    assert added.returncode == 0 and "bob@example.net: confirmed for daily" in added.stdout
    pending = run_cli("subscribers", "add", "cat@example.org", "-n", "daily", config=config)
    assert "cat@example.org: pending for daily" in pending.stdout and "1 confirmation email(s) sent" in pending.stdout
    (confirmation,) = (tmp_path / "outbox").glob("*cat@example.org.eml")
    assert b"/confirm?token=" in confirmation.read_bytes()
    listed = run_cli("subscribers", "list", "--status", "confirmed", config=config)
    assert listed.stdout == "bob@example.net\tdaily\tconfirmed\n"
    (tmp_path / "list.csv").write_text("email\ndan@example.com\nnope\n")
    imported = run_cli("subscribers", "import", "list.csv", "-n", "daily", "--consent-obtained", config=config)
    assert imported.returncode == 0 and "list.csv:3: not a valid email address: 'nope'" in imported.stderr
    assert "1 added, 0 unchanged, 1 bad row(s)" in imported.stdout
    csv_out = run_cli("subscribers", "export", "-n", "daily", "--status", "confirmed", config=config)
    assert [line.split(",")[0] for line in csv_out.stdout.splitlines()] == ["email", "bob@example.net",
                                                                          "dan@example.com"]
    person = run_cli("subscribers", "export", "cat@example.org", config=config)
    assert '"email": "cat@example.org"' in person.stdout and '"kind": "requested"' in person.stdout
    removed = run_cli("subscribers", "remove", "bob@example.net", config=config)
    assert "1 subscription(s) ended" in removed.stdout
    forgot = run_cli("subscribers", "forget", "cat@example.org", "--yes", config=config)
    assert forgot.returncode == 0
    gone = run_cli("subscribers", "export", "cat@example.org", config=config)
    assert gone.returncode == 1 and "no data is held about cat@example.org" in gone.stderr
    bad = run_cli("subscribers", "add", "nope", "-n", "daily", config=config)
    assert bad.returncode == 1 and "Please, enter correct email address" in bad.stderr and "Traceback" not in bad.stderr
    unknown = run_cli("subscribers", "add", "d@example.org", "-n", "weekly", config=config)
    assert unknown.returncode == 1 and "unknown newsletter 'weekly'" in unknown.stderr


def test_an_operators_list_never_brings_back_someone_who_unsubscribed(sessions):
    with sessions() as session, session.begin():
        add_subscriber(session, "gone@example.com", "daily", confirmed=True, origin=Origin("cli"), now=NOW)
    with sessions() as session:
        (subscriber_id, _email), = confirmed_recipients(session, "daily")
    with sessions() as session, session.begin():
        unsubscribe_by_link(session, "s", make_unsubscribe_token("s", subscriber_id, "daily"), WEB, now=NOW)
    for consent in (True, False):
        with sessions() as session, session.begin():
            report = import_csv(session, "gone@example.com\n", "daily", source="old.csv", consent_obtained=consent,
                                now=NOW)
        assert report.unsubscribed == 1 and report.added == 0 and report.confirmations == []
    with sessions() as session:
        assert list_subscriptions(session) == [("gone@example.com", "daily", SubscriptionStatus.unsubscribed)]


def test_mailto_unsubscribe_is_acted_on(tmp_path):
    import email
    import email.policy
    import re
    import shutil

    from conftest import DATA

    shutil.copy(DATA / "wire.xml", tmp_path / "wire.xml")
    config = write_config(tmp_path, transport="file", sources='[[newsletters.sources]]\nname = "A"\nurl = "wire.xml"\n')
    run_cli("subscribers", "add", "mail@example.com", "-n", "daily", "--confirmed", config=config)
    assert run_cli("send", "daily", config=config).returncode == 0
    (digest_mail,) = (tmp_path / "outbox").glob("*mail@example.com.eml")
    header = email.message_from_bytes(digest_mail.read_bytes(), policy=email.policy.default)["List-Unsubscribe"]
    subject = re.search(r"subject=unsubscribe%20([\w.\-]+)>", header).group(1)
    reply = tmp_path / "reply.eml"
    reply.write_bytes(f"From: mail@example.com\r\nTo: unsubscribe@gazette.example.org\r\n"
                      f"Subject: unsubscribe {subject}\r\n\r\n".encode())
    done = run_cli("subscribers", "unsubscribe-mail", str(reply), config=config)
    assert done.returncode == 0 and "mail@example.com: unsubscribed from daily" in done.stdout, done.stderr
    assert "unsubscribed" in run_cli("subscribers", "list", config=config).stdout
    reply.write_bytes(b"From: x@example.com\r\nSubject: unsubscribe forged.token\r\n\r\n")
    forged = run_cli("subscribers", "unsubscribe-mail", str(reply), config=config)
    assert forged.returncode == 1 and "not subscribed; nothing done" in forged.stderr

    # A reader who just writes "unsubscribe", replying to the digest: the sender's own subscription goes.
    run_cli("subscribers", "add", "typed@example.com", "-n", "daily", "--confirmed", config=config)
    digest_id = email.message_from_bytes(digest_mail.read_bytes(), policy=email.policy.default)["Message-ID"]
    reply.write_bytes(f"From: Typed Reader <Typed@Example.com>\r\nSubject: Re: unsubscribe\r\n"
                      f"In-Reply-To: {digest_id}\r\n\r\nPlease unsubscribe me.\r\n".encode())
    typed = run_cli("subscribers", "unsubscribe-mail", str(reply), config=config)
    assert typed.returncode == 0 and "typed@example.com: unsubscribed from daily" in typed.stdout, typed.stderr

    # A hostile In-Reply-To (an id no database holds) is no traceback: the sender's subscriptions decide.
    run_cli("subscribers", "add", "odd@example.com", "-n", "daily", "--confirmed", config=config)
    reply.write_bytes(b"From: odd@example.com\r\nSubject: unsubscribe\r\n"
                      b"In-Reply-To: <digest.99999999999999999999999999.1@x> <digest.123456789012.1@x>\r\n\r\n")
    odd = run_cli("subscribers", "unsubscribe-mail", str(reply), config=config)
    assert odd.returncode == 0 and "Traceback" not in odd.stderr, odd.stderr


def test_signups_never_confirmed_are_forgotten_and_nothing_else_is(sessions):
    from subscribers import purge_unconfirmed

    signup(sessions, "old@example.com", now=NOW - timedelta(days=30))
    signup(sessions, "fresh@example.com", now=NOW - timedelta(days=1))
    signup(sessions, "both@example.com", "daily", now=NOW - timedelta(days=30))
    signup(sessions, "both@example.com", "weekly", now=NOW - timedelta(days=30))
    with sessions() as session, session.begin():
        add_subscriber(session, "kept@example.com", "daily", confirmed=True, origin=Origin("cli"),
                       now=NOW - timedelta(days=30))
    signup(sessions, "asked-again@example.com", now=NOW - timedelta(days=30))
    signup(sessions, "asked-again@example.com", now=NOW - timedelta(hours=2))  # a new link: still in use
    with sessions() as session, session.begin():
        assert purge_unconfirmed(session, NOW - timedelta(days=9)) == 3
    with sessions() as session:
        left = {email for email, _n, _s in list_subscriptions(session)}
        people = set(session.scalars(select(Subscriber.email)))
        kinds = {e.detail for e in session.scalars(select(ConsentEvent))}
    assert left == {"fresh@example.com", "kept@example.com", "asked-again@example.com"}
    assert people == left  # no address, IP or user agent kept of those who never confirmed
    assert all("203.0.113.7" not in k for k in kinds)


def test_a_forgotten_persons_id_is_never_given_to_the_next_subscriber(sessions):
    with sessions() as session, session.begin():
        add_subscriber(session, "gone@example.com", "daily", confirmed=True, origin=Origin("cli"), now=NOW)
    with sessions() as session:
        ((gone_id, _),) = confirmed_recipients(session, "daily")
    old_link = make_unsubscribe_token("s", gone_id, "daily")
    with sessions() as session, session.begin():
        assert forget_person(session, "gone@example.com") == gone_id
    with sessions() as session, session.begin():
        add_subscriber(session, "new@example.com", "daily", confirmed=True, origin=Origin("cli"), now=NOW)
    with sessions() as session:
        ((new_id, email),) = confirmed_recipients(session, "daily")
        assert email == "new@example.com" and new_id != gone_id
        assert export_person(session, "gone@example.com") is None
        assert "gone@example.com" not in set(session.scalars(select(Subscriber.email)))
    with pytest.raises(SubscriberError, match="no subscription"):
        with sessions() as session, session.begin():
            unsubscribe_by_link(session, "s", old_link, WEB, now=NOW)
