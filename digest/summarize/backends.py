"""The summarize stage for a whole issue: one call, whichever backend the settings name.

The pipeline summarizes an issue's articles together (not one by one) so the
LLM backend can run its calls side by side; the extractive backend needs no
such thing but takes the same call, so the pipeline never branches on the
backend. digest.summarize.extractive stays standard-library only; httpx is imported only
when the LLM backend is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.summarize import extractive
from digest.settings import SummarizeSettings

__all__ = ["summarize_articles"]


def summarize_articles(
    articles: Sequence[tuple[str, str]], *, settings: SummarizeSettings, max_sentences: int,
) -> list[list[str]]:
    """One summary (a list of whole sentences) per (title, text), in the same order."""
    if settings.backend == "llm":
        from digest.summarize.llm import summarize_with_llm

        return summarize_with_llm(articles, settings=settings, max_sentences=max_sentences)
    return [extractive.summarize(text, title=title, max_sentences=max_sentences) for title, text in articles]
