"""Render stage: takes an IssueDraft, gives the issue's subject, HTML and text once (html.py), then
the message bytes with per-reader slots (message.py), signed (dkim.py); notice.py the signup emails.
"""
