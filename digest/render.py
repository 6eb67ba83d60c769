"""Issue draft -> (subject, html, text): Jinja2, then premailer, once per issue.

The bodies are rendered once with UNSUBSCRIBE_URL_MARK where each reader's own
link goes; digest.message swaps it per recipient in the built bytes. Inlining
CSS costs milliseconds, so doing it once per issue (never per reader) keeps
the send loop cheap.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from premailer import Premailer

from digest.config import NewsletterSettings, SiteSettings
from digest.content import UNSUBSCRIBE_URL_MARK, IssueDraft, RenderedIssue
from digest.errors import RenderError

SUBJECT_MAX = 110


def templates_dir() -> Path:
    """Installed wheels carry templates inside the package; a source checkout has them at the top."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"


def make_environment(folder: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or templates_dir())),
        autoescape=jinja2.select_autoescape(["html", "htm"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["datetime"] = _format_datetime
    return env


def _format_datetime(value, fmt: str = "%d %b %Y, %H:%M %Z", tz: str | None = None) -> str:
    """Times in the newsletter's own time zone: a reader in Kyiv should not do UTC sums."""
    if tz:
        value = value.astimezone(ZoneInfo(tz))
    return re.sub(r"\b0(\d)", r"\1", value.strftime(fmt))  # "3 Nov", not "03 Nov"


def render_issue(
    draft: IssueDraft, site: SiteSettings, newsletter: NewsletterSettings, env: jinja2.Environment
) -> RenderedIssue:
    subject = make_subject(draft)
    context = {
        "issue": draft,
        "site": site,
        "newsletter": newsletter,
        "subject": subject,
        "preheader": _preheader(draft),
        "unsubscribe_url": UNSUBSCRIBE_URL_MARK,
    }
    html = render_template(env, "email/digest.html", context | {"css": read_css(env)})
    text = render_template(env, "email/digest.txt", context)
    return RenderedIssue(subject=subject, html=inline_css(html), text=text)


def make_subject(draft: IssueDraft) -> str:
    date = draft.date.strftime("%d %b %Y").lstrip("0")
    subject = f"{draft.title}, {date}"
    items = draft.items
    if items:
        subject += f": {items[0].title}"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return " ".join(subject.split())


def _preheader(draft: IssueDraft) -> str:
    titles = [item.title for item in draft.items[1:4]]
    return ("Also: " + "; ".join(titles)) if titles else draft.description


def render_template(env: jinja2.Environment, name: str, context: dict) -> str:
    """Render one template; a broken template becomes a RenderError naming it and the line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {exc.filename or exc.name} line {exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template not found: {exc.name}") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {name}: {exc.message}") from exc


def read_css(env: jinja2.Environment) -> str:
    source, _filename, _uptodate = env.loader.get_source(env, "email/digest.css")
    return source


def inline_css(html: str) -> str:
    """Inline the <style> block; no network (premailer would fetch stylesheets otherwise)."""
    logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
    try:
        return Premailer(
            html, allow_network=False, keep_style_tags=True, strip_important=False,
            disable_validation=True, cssutils_logging_level=logging.CRITICAL,
        ).transform()
    except Exception as exc:  # premailer raises bare lxml/cssutils errors
        raise RenderError(f"inlining CSS failed: {exc}") from exc
