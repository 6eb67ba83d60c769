"""What an operator reads (issue 13): progress with a total, honest counts and messages, test copies marked."""

from __future__ import annotations

import io

from conftest import DATA, run_cli, write_config

from digest.cli.delivery import Progress
from digest.deliver.engine import DeliveryReport


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_total_percentage_and_eta():
    screen = Terminal()
    with Progress(screen) as progress:
        progress.update(DeliveryReport(issue_id=7, sent=1, total=10, done_before=2))
        progress.update(DeliveryReport(issue_id=7, sent=3, failed=1, total=10, done_before=2))
    shown = screen.getvalue()
    assert "6/10" in shown and "60%" in shown and "<" in shown  # done of total, percentage, ETA


def newsletter(tmp_path, smtp_server):
    (tmp_path / "wire.xml").write_bytes((DATA / "wire.xml").read_bytes())
    return write_config(tmp_path, smtp_port=smtp_server.port,
                        sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')


def test_dry_run_counts_read_as_english_and_a_test_copy_is_marked(tmp_path, smtp_server):
    config = newsletter(tmp_path, smtp_server)
    run_cli("subscribers", "add", "one@example.com", "-n", "daily", "--confirmed", config=config)
    dry = run_cli("send", "daily", "--dry-run", config=config)
    assert dry.returncode == 0 and "would go to 1 confirmed subscriber (dry run)" in dry.stdout, dry.stdout
    test = run_cli("send", "daily", "--to", "editor@example.com", config=config)
    assert test.returncode == 0, test.stderr
    (copy,) = smtp_server.messages
    assert copy.message["Subject"].startswith("[Test] Gazette Daily")
    real = run_cli("send", "daily", config=config)
    assert real.returncode == 0 and not smtp_server.messages[-1].message["Subject"].startswith("[Test]")


def test_listing_an_unknown_newsletter_is_an_error_naming_the_known_ones(tmp_path, smtp_server):
    config = newsletter(tmp_path, smtp_server)
    result = run_cli("subscribers", "list", "-n", "weekly", config=config)
    assert result.returncode == 1 and "unknown newsletter 'weekly'" in result.stderr and "daily" in result.stderr
