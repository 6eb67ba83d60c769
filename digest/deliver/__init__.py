"""Deliver stage: takes an issue's outbox rows and finished message bytes, gives sent / failed /
retrying outcomes recorded per (issue, subscriber), through a transport (SMTP, file, console).
"""
