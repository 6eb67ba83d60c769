"""Article text -> summary sentences, by an OpenAI-compatible chat-completions API.

Optional and never load-bearing: a digest must go out even when the model
server is down, slow or talking nonsense, so every failure for an article
(HTTP error, timeout, malformed JSON, an empty answer) falls back to the
offline extractive summary of that article and is logged, never raised.
Calls run on a small thread pool because an issue has a few dozen articles
and a model answers in seconds; the pool size is the operator's bound on how
hard we lean on their server. The answer is split with the extractive
summarizer's sentence splitter, so both backends hand render the same shape:
whole sentences, at most the requested number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx
import jinja2

from digest.summarize import extractive
from digest.settings import SummarizeSettings

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_PROMPT", "LLMError", "render_prompt", "summarize_with_llm"]

# Long articles are cut before they go out: local models have small context
# windows, and the facts a digest needs are at the top of a news story.
MAX_TEXT_CHARS = 12_000

DEFAULT_PROMPT = """\
Summarize the news article below for an email digest in at most {{ sentences }} \
complete sentence{{ "s" if sentences != 1 else "" }}. \
State the facts plainly in the article's own language; \
no headline, no bullet points, no preamble, no opinion.

Title: {{ title }}

{{ text }}
"""

# Some models wrap their answer in reasoning tags, list markers or quotes.
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_PREAMBLE = re.compile(r"^\s*(?:here is|here's|summary)\b[^\n]*:\s*\n", re.IGNORECASE)


class LLMError(Exception):
    """One article's call did not give usable sentences; the caller falls back."""


def summarize_with_llm(
    articles: Sequence[tuple[str, str]], *, settings: SummarizeSettings, max_sentences: int,
) -> list[list[str]]:
    """One summary per (title, text), in order; any article whose call fails gets its extractive summary."""
    if not articles:
        return []
    try:
        template = _environment().from_string(settings.llm_prompt or DEFAULT_PROMPT)
    except jinja2.TemplateError as exc:
        log.warning("summarize.llm_prompt is not a valid template (%s); using extractive summaries", exc)
        return [_extractive(title, text, max_sentences) for title, text in articles]
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    workers = max(1, min(settings.llm_max_concurrency, len(articles)))
    with httpx.Client(
        timeout=httpx.Timeout(settings.llm_timeout), headers=headers,
        limits=httpx.Limits(max_connections=workers, max_keepalive_connections=workers),
    ) as client, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest-llm") as pool:

        def one(article: tuple[str, str]) -> list[str]:
            title, text = article
            try:
                prompt = render_prompt(template, title, text, max_sentences)
                return _complete(client, settings, prompt, max_sentences)
            except Exception as exc:  # noqa: BLE001  (whatever went wrong, this article still gets a summary)
                log.warning("LLM summary failed for %r (%s: %s); using the extractive summary",
                            title[:80], type(exc).__name__, exc)
                return _extractive(title, text, max_sentences)

        return list(pool.map(one, articles))


def render_prompt(template: jinja2.Template, title: str, text: str, sentences: int) -> str:
    return template.render(title=title, text=text[:MAX_TEXT_CHARS], sentences=sentences)


def _complete(client: httpx.Client, settings: SummarizeSettings, prompt: str, max_sentences: int) -> list[str]:
    # One user message, no system message: some local chat templates (Gemma, Mistral) reject the system role.
    response = client.post(
        settings.llm_base_url.rstrip("/") + "/chat/completions",
        json={"model": settings.llm_model, "messages": [{"role": "user", "content": prompt}]},
    )
    response.raise_for_status()
    try:
        answer = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"unexpected response: {response.text[:200]!r}") from exc
    sentences = answer_sentences(answer) if isinstance(answer, str) else []
    if not sentences:
        raise LLMError("empty answer")
    return sentences[:max_sentences]


def answer_sentences(answer: str) -> list[str]:
    """The model's answer as whole sentences, without reasoning tags, list markers or a "Here is" line."""
    answer = _THINKING.sub("", answer)
    answer = _PREAMBLE.sub("", answer, count=1)
    answer = _LIST_MARKER.sub("", answer)
    return [s for s in extractive.split_sentences(answer) if s.strip(" \"'“”")]


def _extractive(title: str, text: str, max_sentences: int) -> list[str]:
    return extractive.summarize(text, title=title, max_sentences=max_sentences)


def _environment() -> jinja2.Environment:
    # Plain text out: escaping would put "&amp;" into what the model reads; a typo should fail, not vanish.
    return jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
