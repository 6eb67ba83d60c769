"""Prometheus metrics, served at /metrics by the web app and the daemon.

Defined once at import on the default registry; the pipeline increments them
wherever it runs (CLI, daemon, worker), so a process that serves /metrics
reports its own work.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ARTICLES_GATHERED = Counter("digest_articles_gathered_total", "New articles stored by gathering", ["source"])
SOURCE_ERRORS = Counter("digest_source_errors_total", "Fetches of a source that failed", ["source"])
ISSUES = Counter("digest_issues_total", "Issues made", ["newsletter"])
MESSAGES_SENT = Counter("digest_messages_sent_total", "Messages accepted by the mail server", ["newsletter"])
MESSAGES_FAILED = Counter("digest_messages_failed_total", "Messages that failed for good", ["newsletter"])
SEND_DURATION = Histogram("digest_send_duration_seconds", "Time to deliver one issue (one run)", ["newsletter"],
                          buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200))
FEEDBACK = Counter("digest_feedback_total", "Bounces, complaints and auto-replies acted on, by kind",
                   ["kind"])  # hard, soft, complaint, auto_reply
SUPPRESSIONS = Counter("digest_suppressions_total", "Addresses suppressed, by reason", ["reason"])
INBOUND_KEPT = Counter("digest_inbound_kept_total", "Inbound messages kept for the operator (not acted on)")
