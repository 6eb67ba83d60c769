"""Summarize stage: takes an article's text (and title), gives a few whole sentences.
extractive.py is the offline default; backends.py chooses it or the LLM backend per settings.
"""

from digest.summarize.extractive import summarize

__all__ = ["summarize"]
