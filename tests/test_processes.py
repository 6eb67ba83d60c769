"""delivery.processes: one `digest send` on several sender processes sharing the issue through the outbox.

Real parts only: PostgreSQL at 127.0.0.1:5432 (a database per test), aiosmtpd on
127.0.0.1, the real CLI in a subprocess. What must hold is what holds for
several `digest worker`s: every reader gets the issue, once when the senders
stop cleanly (SIGTERM to the command, or its parent dying), and at most the
messages in flight twice when everything is killed outright.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess

import pytest
from conftest import DATA, _cli, import_readers, run_cli, wait_until, write_config

PROCESSES, CONNECTIONS = 2, 2


def newsletter(tmp_path, pg_url, smtp_server, readers: int, processes: int = PROCESSES):
    shutil.copy(DATA / "wire.xml", tmp_path / "wire.xml")
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources="""
        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"
        """, delivery=f"batch_size = 10\nconnections = {CONNECTIONS}\nprocesses = {processes}")
    config.write_text(config.read_text().replace('url = "sqlite:///digest.db"', f'url = "{pg_url}"'))
    addresses = [f"reader{i}@example.com" for i in range(readers)]
    (tmp_path / "readers.csv").write_text("email\n" + "\n".join(addresses) + "\n")
    import_readers(config)
    return config, addresses


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_process_left():
    """A failed test still ends the commands it started (and, by their pipes, their senders)."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate()


def start_send(config, *, new_session: bool = False) -> subprocess.Popen:
    command, env = _cli(("send", "daily"), config, None)
    STARTED.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                    cwd=config.parent, start_new_session=new_session))
    return STARTED[-1]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def senders_of(process: subprocess.Popen) -> list[int]:
    """The sender processes, once all are up: children of the fork server the command started."""
    def spawned():
        pids = [pid for child in children_of(process.pid) for pid in children_of(child)]
        return pids if len(pids) == PROCESSES else None
    assert wait_until(spawned, seconds=60), "the sender processes did not start"
    return spawned()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def gone(pids) -> bool:
    return not any(os.path.exists(f"/proc/{pid}") and "zombie" not in _state(pid) for pid in pids)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((line for line in f if line.startswith("State:")), "").lower()
    except OSError:
        return "zombie"


def sending(tmp_path, pg_url, smtp_server):
    """A `digest send` of 120 readers on a slow server, its senders up and 10 messages through."""
    config, readers = newsletter(tmp_path, pg_url, smtp_server, 120)
    smtp_server.delay = 0.05
    process = start_send(config)
    senders = senders_of(process)
    assert wait_until(lambda: len(smtp_server.messages) >= 10, seconds=60)
    return config, readers, process, senders


def test_one_send_on_several_processes_sends_each_reader_once_with_one_report(tmp_path, pg_url, smtp_server):
    config, readers = newsletter(tmp_path, pg_url, smtp_server, 300)
    smtp_server.delay = 0.002
    result = run_cli("send", "daily", config=config, timeout=180)
    assert result.returncode == 0, result.stderr
    got = [m.rcpt_tos[0] for m in smtp_server.messages]
    assert sorted(got) == sorted(readers)  # every reader, once
    assert re.findall(r"^issue \d+: .*$", result.stdout, re.M) == ["issue 1: 300 sent, 0 failed, 0 skipped"]
    # More connections than one process holds: both processes sent.
    assert len(smtp_server.peers) > CONNECTIONS, smtp_server.peers
    assert "Traceback" not in result.stderr
    assert "sent 300  failed 0" in run_cli("status", "daily", config=config).stdout


def test_sigterm_stops_every_sender_cleanly_and_the_rest_resumes_once(tmp_path, pg_url, smtp_server):
    config, readers, process, senders = sending(tmp_path, pg_url, smtp_server)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert wait_until(lambda: gone(senders), seconds=10), "a sender outlived the command"
    stopped_at = len(smtp_server.messages)
    assert stopped_at < len(readers) and "stopped, run again to resume" in out, (out, err)
    assert len(re.findall(r"^issue \d+:", out, re.M)) == 1

    smtp_server.delay = 0
    resumed = run_cli("send", "daily", config=config, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    got = [m.rcpt_tos[0] for m in smtp_server.messages]
    assert sorted(got) == sorted(readers)  # a clean stop loses nothing and repeats nothing


def test_senders_stop_cleanly_when_their_parent_is_killed(tmp_path, pg_url, smtp_server):
    config, readers, process, senders = sending(tmp_path, pg_url, smtp_server)
    process.kill()
    process.communicate(timeout=30)
    # Each sender reads end-of-file from its parent, finishes what is in flight, records it and exits.
    assert wait_until(lambda: gone(senders), seconds=30), "orphaned senders kept running"
    smtp_server.delay = 0
    resumed = run_cli("send", "daily", config=config, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(readers)


def test_killing_every_process_resends_at_most_what_was_in_flight(tmp_path, pg_url, smtp_server):
    config, readers = newsletter(tmp_path, pg_url, smtp_server, 60)
    smtp_server.delay = 0.3
    process = start_send(config, new_session=True)
    senders = senders_of(process)
    assert wait_until(lambda: len(smtp_server.messages) >= 4, seconds=60)
    os.killpg(process.pid, signal.SIGKILL)  # the command and its senders, all at once
    process.communicate(timeout=30)
    assert wait_until(lambda: gone(senders), seconds=10)
    killed_after = len(smtp_server.messages)
    assert killed_after < len(readers)

    smtp_server.delay = 0
    resumed = run_cli("send", "daily", config=config, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    got = [m.rcpt_tos[0] for m in smtp_server.messages]
    assert set(got) == set(readers)
    # What goes out twice: per connection of each process, the message in flight and at most one whose
    # 250 came in the last COMMIT_SECONDS (0.1 s) before the kill, unrecorded (the server takes 0.3 s a message).
    print(f"SIGKILL of {PROCESSES} processes after {killed_after} messages: {len(got) - len(readers)} duplicate(s)")
    assert len(got) - len(readers) <= PROCESSES * CONNECTIONS * 2


def test_several_processes_on_sqlite_send_each_reader_once(tmp_path, smtp_server):
    """SQLite defaults to one sender process, but takes more when asked: its writer lock orders the claims."""
    config, readers = newsletter(tmp_path, "sqlite:///digest.db", smtp_server, 150)
    result = run_cli("send", "daily", config=config, timeout=180)
    assert result.returncode == 0, result.stderr
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted(readers)
    assert re.findall(r"^issue \d+: .*$", result.stdout, re.M) == ["issue 1: 150 sent, 0 failed, 0 skipped"]
