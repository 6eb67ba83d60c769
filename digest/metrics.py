"""Prometheus metrics, served at /metrics by the web app and the daemon.

Defined once at import on the default registry; the flows increment them
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
FEEDBACK = Counter("digest_feedback_total", "Bounces, complaints, reports and auto-replies recorded, by kind",
                   ["kind"])  # hard, soft, sender, unclassified, complaint, report, auto_reply, delivered, delayed
BOUNCE_REASONS = Counter("digest_bounces_total", "Bounces recorded, by reason and by whose side it is on",
                         ["reason", "side"])  # side: reader, sender, or "" (unclassified)
SENDER_SIDE_ALARMS = Counter("digest_sender_side_alarms_total",
                             "Issues paused because a receiving domain refused too many of its deliveries")
SUPPRESSIONS = Counter("digest_suppressions_total", "Addresses suppressed, by reason", ["reason"])
INBOUND_KEPT = Counter("digest_inbound_kept_total", "Inbound messages kept for the operator (not acted on)")
LOGIN_ALARMS = Counter("digest_login_alarms_total",
                       "Operators whose wrong passwords passed the per-account budget in a window")
CLICKS = Counter("digest_clicks_total", "Requests to counted links and the open pixel, by kind and verdict",
                 ["kind", "verdict"])  # kind: link, canary, open; verdict: person or the rule that found a machine
CLICKS_LOST = Counter("digest_clicks_lost_total", "Clicks redirected but not recorded (database down, queue full)")
