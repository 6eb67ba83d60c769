"""The audience: subscriptions per newsletter, consent events, tokens, and the CLI around them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import run_cli, write_config
from digest.db import create_schema, make_engine, make_sessionmaker
from subscribers import (
    ConsentEvent,
    InvalidAddress,
    SubscriberError,
    SubscriptionStatus,
    add_subscriber,
    confirmed_recipients,
    list_subscriptions,
    make_unsubscribe_token,
    normalize_address,
    read_unsubscribe_token,
    remove_subscriber,
)


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'subs.db'}")
    create_schema(engine)
    return make_sessionmaker(engine)


def test_one_person_many_newsletters_each_with_its_own_state(sessions):
    with sessions() as session, session.begin():
        add_subscriber(session, "Ann@Example.COM", "daily", confirmed=True, source="test", ip="127.0.0.1")
        add_subscriber(session, "ann@example.com", "weekly", confirmed=False, source="test")
        # A later unconfirmed signup never flips a confirmed subscription back to pending.
        add_subscriber(session, "ann@example.com", "daily", confirmed=False, source="test")
    with sessions() as session:
        assert list_subscriptions(session) == [
            ("ann@example.com", "daily", SubscriptionStatus.confirmed),
            ("ann@example.com", "weekly", SubscriptionStatus.pending)]
        assert [email for _id, email in confirmed_recipients(session, "daily")] == ["ann@example.com"]
        assert confirmed_recipients(session, "weekly") == []
    with sessions() as session, session.begin():
        assert remove_subscriber(session, "ann@example.com", "daily", source="test") == 1
    with sessions() as session:
        assert confirmed_recipients(session, "daily") == []
        kinds = [(e.newsletter, e.kind, e.ip) for e in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]
    assert kinds == [("daily", "confirmed", "127.0.0.1"), ("weekly", "requested", ""),
                     ("daily", "requested", ""), ("daily", "unsubscribed", "")]


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "x@example.com\r\nBcc: evil@example.com", ""])
def test_bad_addresses_are_refused(bad):
    with pytest.raises(InvalidAddress, match="not a valid email address"):
        normalize_address(bad)


def test_unsubscribe_tokens_are_signed():
    token = make_unsubscribe_token("secret", 42, "daily")
    assert read_unsubscribe_token("secret", token) == (42, "daily")
    with pytest.raises(SubscriberError):
        read_unsubscribe_token("other secret", token)
    with pytest.raises(SubscriberError):
        read_unsubscribe_token("secret", token[:-2] + "xx")


def test_cli_add_list_remove(tmp_path):
    config = write_config(tmp_path, sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n')
    added = run_cli("subscribers", "add", "bob@example.net", "-n", "daily", "--confirmed", config=config)
    assert added.returncode == 0 and "bob@example.net: confirmed for daily" in added.stdout
    pending = run_cli("subscribers", "add", "cat@example.org", "-n", "daily", config=config)
    assert "cat@example.org: pending for daily" in pending.stdout
    listed = run_cli("subscribers", "list", "--status", "confirmed", config=config)
    assert listed.stdout == "bob@example.net\tdaily\tconfirmed\n"
    removed = run_cli("subscribers", "remove", "bob@example.net", config=config)
    assert "1 subscription(s) ended" in removed.stdout
    bad = run_cli("subscribers", "add", "nope", "-n", "daily", config=config)
    assert bad.returncode == 1 and "not a valid email address" in bad.stderr and "Traceback" not in bad.stderr
    unknown = run_cli("subscribers", "add", "d@example.org", "-n", "weekly", config=config)
    assert unknown.returncode == 1 and "unknown newsletter 'weekly'" in unknown.stderr
