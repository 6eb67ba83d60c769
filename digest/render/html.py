"""Issue draft -> (subject, html, text): Jinja2, then premailer, once per issue.

The bodies are rendered once with a random mark where each reader's own
link goes; digest.render.message swaps it per recipient in the built bytes. Inlining
CSS costs milliseconds, so doing it once per issue (never per reader) keeps
the send loop cheap.

Gmail clips an HTML part over about 102 KB. The digest is rendered, measured,
and, past the newsletter's HTML budget, rendered again with fewer stories in
full: the rest are listed as links only and the email points to its web
version (/issues/<newsletter>/<date>), which it knows from the issue date.

Templates are the user's: `make_environment(custom_dir)` looks in the custom
folder first and falls back to the bundled templates, and every failure inside
a template becomes a RenderError naming the template file and line.
"""

from __future__ import annotations

import logging
import re
import secrets
import types
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from premailer import Premailer

from digest.settings import NewsletterSettings, SiteSettings
from digest.content import IssueDraft, RenderedIssue, new_personal_mark, strip_bidi
from digest.errors import ConfigError, RenderError
from digest.render import i18n

SUBJECT_MAX = 110
DEFAULT_HTML_BUDGET = 90_000  # bytes; Gmail clips at about 102 KB


def templates_dir() -> Path:
    """Installed wheels carry templates inside the package; a source checkout has them at the top."""
    package = Path(__file__).resolve().parent.parent  # digest/
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def make_environment(custom_dir: str | Path | None = None) -> jinja2.Environment:
    """Templates from `custom_dir` (RenderSettings.templates_dir) first, then the bundled ones."""
    folders = [str(templates_dir())]
    if custom_dir:
        if not Path(custom_dir).is_dir():
            raise ConfigError(f"render.templates_dir: no such folder: {custom_dir}",
                              hint="it holds your own email/ and web/ templates; leave it empty for ours")
        folders.insert(0, str(custom_dir))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder) for folder in folders]),
        autoescape=jinja2.select_autoescape(["html", "htm"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["datetime"] = _format_datetime
    i18n.install(env)  # {% trans %} and _(): English unless a render passes its language's words
    return env


def _format_datetime(value, fmt: str = "%d %b %Y, %H:%M %Z", tz: str | None = None) -> str:
    """Times in the newsletter's own time zone: a reader in Kyiv should not do UTC sums."""
    if tz:
        value = value.astimezone(ZoneInfo(tz))
    return re.sub(r"(?<![:\d])0(\d)", r"\1", value.strftime(fmt))  # "3 Nov" and "9:05", not "03 Nov", "9:5"


def issue_path(newsletter: str, date: datetime) -> str:
    """Where the web app serves an issue: its date in the newsletter's time zone (IssueDraft.date)."""
    return f"/issues/{newsletter}/{date:%Y-%m-%d}"


def site_url(site: SiteSettings, path: str = "/") -> str:
    return site.base_url.rstrip("/") + path


def render_issue(
    draft: IssueDraft, site: SiteSettings, newsletter: NewsletterSettings, env: jinja2.Environment,
    *, budget_bytes: int = DEFAULT_HTML_BUDGET,
) -> RenderedIssue:
    """Render both bodies; the HTML keeps to `budget_bytes` by listing the last stories as links only."""
    language, texts = newsletter.language or site.language, i18n.own_texts(newsletter)
    subject = make_subject(draft, language)
    total = len(draft.items)
    mark = _fresh_mark(draft)
    web_mark = secrets.token_hex(16)
    context = {
        "issue": draft,
        "site": site.for_templates(),
        "newsletter": newsletter,
        "subject": subject,
        "preheader": _preheader(draft, language, texts),
        "unsubscribe_url": mark,
        "web_url": site_url(site, issue_path(draft.newsletter, draft.date)) + f"?issue={web_mark}",
        "archive_url": site_url(site, f"/issues/{draft.newsletter}"),
        "preferences_url": f"{mark}&view=preferences",  # the reader's own page (web/preferences.py)
        "item_count": total,
        "full_items": total,
        "listed_items": total,
        **i18n.words(language, texts),
    }
    text = render_template(env, "email/digest.txt", context)
    css = read_css(env)

    def html_for(full: int, listed: int) -> str:
        return inline_css(render_template(env, "email/digest.html",
                                          context | {"css": css, "full_items": full, "listed_items": listed}))

    html = html_for(total, total)
    if _size(html) > budget_bytes:
        html = _fit(html_for, total, budget_bytes)
    return RenderedIssue(subject=subject, html=html, text=text, mark=mark, web_mark=web_mark)


def _fresh_mark(draft: IssueDraft) -> str:
    """A mark that occurs nowhere in the issue's content (guessing it is already hopeless; this makes it certain)."""
    content = "\n".join(str(value) for item in draft.items for value in vars(item).values())
    while True:
        mark = new_personal_mark()
        if mark not in content:
            return mark


def _fit(html_for, total: int, budget: int) -> str:
    """The most stories in full that fit; if even links alone overflow, the most links that fit."""
    def largest(render_with, low: int, high: int) -> tuple[int, str | None]:
        best, best_html = low, None  # binary search: size grows with the count
        while low <= high:
            middle = (low + high) // 2
            html = render_with(middle)
            if _size(html) <= budget:
                best, best_html, low = middle, html, middle + 1
            else:
                high = middle - 1
        return best, best_html

    _full, html = largest(lambda n: html_for(n, total), 0, total - 1)
    if html is not None:
        return html
    _listed, html = largest(lambda n: html_for(0, n), 0, total - 1)
    return html if html is not None else html_for(0, 0)


def _size(html: str) -> int:
    return len(html.encode("utf-8"))


def make_subject(draft: IssueDraft, language: str = "en") -> str:
    date = i18n.short_date(draft.date, language)
    subject = f"{draft.title}, {date}"
    items = draft.items
    if items:
        subject += f": {items[0].title}"
    subject = strip_bidi(subject)  # a feed title must not reorder how the subject reads
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return " ".join(subject.split())


def _preheader(draft: IssueDraft, language: str, texts: tuple[tuple[str, str], ...] = ()) -> str:
    titles = [item.title for item in draft.items[1:4]]
    also = i18n.translator(language, texts).gettext(i18n.N_("Also: %(titles)s"))
    return also % {"titles": "; ".join(titles)} if titles else draft.description


def render_template(env: jinja2.Environment, name: str, context: dict) -> str:
    """Render one template; any failure in it becomes a RenderError naming the template file and line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {exc.filename or exc.name} line {exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template not found: {exc.name} (wanted by {name})") from exc
    except Exception as exc:  # UndefinedError, and whatever a filter or expression raises at run time
        where = _template_frame(exc.__traceback__) or (name, None)
        line = f" line {where[1]}" if where[1] else ""
        detail = getattr(exc, "message", None) or str(exc)
        raise RenderError(f"template {where[0]}{line}: {type(exc).__name__}: {detail}") from exc


def _template_frame(tb: types.TracebackType | None) -> tuple[str, int] | None:
    """The innermost traceback frame that Jinja rewrote to point into a template (file, line)."""
    found = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def read_css(env: jinja2.Environment) -> str:
    """email/digest.css without its comments (some clients choke on them; they cost bytes)."""
    try:
        source, _filename, _uptodate = env.loader.get_source(env, "email/digest.css")
    except jinja2.TemplateNotFound as exc:
        raise RenderError("template not found: email/digest.css") from exc
    return re.sub(r"/\*.*?\*/\s*", "", source, flags=re.DOTALL)  # comments are for the editor, not the reader


def inline_css(html: str) -> str:
    """Inline the <style> block; no network (premailer would fetch stylesheets otherwise)."""
    logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
    try:
        return Premailer(
            html, allow_network=False, keep_style_tags=True, strip_important=False,
            disable_validation=True, cssutils_logging_level=logging.CRITICAL,
            disable_basic_attributes=["width", "height"],  # keep width="600": Outlook sizes tables by it
        ).transform()
    except Exception as exc:  # premailer raises bare lxml/cssutils errors
        raise RenderError(f"inlining CSS failed: {exc}") from exc
