"""The pipeline's promises, called as the scheduler will: one issue per slot, previews change nothing."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from conftest import DATA, SECRET, write_config
from sqlalchemy import func, select

from digest.flows import drafting, sending
from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.models import Delivery, Issue
from digest.deliver.transports import MemoryTransport
from subscribers import Origin, add_subscriber


@pytest.fixture
def runtime(tmp_path):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, transport="file", sources="""
        [[newsletters.sources]]
        name = "Wire"
        url = "feed.xml"
        """)
    transport = MemoryTransport()
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    rt = replace(Runtime.create(settings), transport_factory=lambda: transport)
    with rt.sessions() as session, session.begin():
        add_subscriber(session, "ann@example.com", "daily", confirmed=True, origin=Origin("test"))
    return rt, transport, tmp_path


def count(rt, model) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_one_slot_makes_one_issue_whatever_happens(runtime):
    rt, transport, folder = runtime
    first = sending.send_newsletter(rt, "daily", slot="2026-11-24T07:00")
    assert first.new_issue_id is not None and len(transport.messages) == 1

    # New articles arrive, and the same slot fires again (a retry, a restart, a second daemon).
    shutil.copy(DATA / "desk.atom", folder / "feed.xml")
    again = sending.send_newsletter(rt, "daily", slot="2026-11-24T07:00")
    assert again.slot_taken and again.new_issue_id is None
    assert count(rt, Issue) == 1 and len(transport.messages) == 1

    later = sending.send_newsletter(rt, "daily", slot="2026-11-25T07:00")
    assert later.new_issue_id is not None and count(rt, Issue) == 2 and len(transport.messages) == 2
    assert b"New cycle lanes open on the ring road" in transport.messages[-1][2]


def test_preview_and_test_send_write_no_issue_and_no_delivery(runtime):
    rt, transport, _folder = runtime
    draft, rendered = drafting.preview(rt, "daily")
    assert len(draft.items) == 3 and "token=preview" in rendered.html
    sending.test_send(rt, "daily", "editor@example.com")
    assert count(rt, Issue) == 0 and count(rt, Delivery) == 0
    assert [recipient for _sender, recipient, _message in transport.messages] == ["editor@example.com"]
    outcome = sending.send_newsletter(rt, "daily")
    assert outcome.reports[-1].sent == 1
