"""Rate limits: messages per second and a sliding hour, both counted in the database so they hold across senders."""

from __future__ import annotations

import shutil
import signal
import time

from conftest import DATA, SECRET, import_readers, run_cli, start_cli, wait_until, write_config
from sqlalchemy import select

from digest.flows import sending
from digest.flows.runtime import Runtime
from digest.config import load_settings
from digest.models import Delivery


def newsletter_with_readers(tmp_path, smtp_server, count: int, delivery: str):
    shutil.copy(DATA / "wire.xml", tmp_path / "wire.xml")
    config = write_config(tmp_path, smtp_port=smtp_server.port, delivery=delivery,
                          sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')
    (tmp_path / "readers.csv").write_text("email\n" + "\n".join(f"r{i}@example.com" for i in range(count)) + "\n")
    import_readers(config)
    return config


def test_messages_per_second_are_spaced_out(tmp_path, smtp_server):
    config = newsletter_with_readers(tmp_path, smtp_server, 12, "max_per_second = 10.0\nconnections = 3")
    rt = Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET}))
    outcome = sending.send_newsletter(rt, "daily")
    assert outcome.reports[-1].sent == 12
    with rt.sessions() as session:
        times = sorted(session.scalars(select(Delivery.sent_at)))
    # 12 messages at no more than 10 a second span at least 1.1 s (a lower bound: never faster than the limit).
    assert (times[-1] - times[0]).total_seconds() >= 1.0


def test_the_hourly_window_holds_the_rest_back(tmp_path, smtp_server):
    config = newsletter_with_readers(tmp_path, smtp_server, 8, "max_per_hour = 5")
    process = start_cli("send", "daily", config=config)
    wait_until(lambda: len(smtp_server.messages) >= 5)
    time.sleep(2)  # it waits for the window instead of sending more
    assert len(smtp_server.messages) == 5
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "5 sent" in out and "stopped, run again to resume" in out
    status = run_cli("status", "daily", config=config)
    assert "queued 3" in status.stdout and "sent 5" in status.stdout
