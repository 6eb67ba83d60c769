"""The reader pages' answers in the reader's language, the subscribers package's included.

`subscribers` never imports digest, so what it tells a reader (a link that
expired, a pause of the wrong length) is English; the texts a reader can meet
are listed here with N_ so extraction puts them in every catalog, and `say`
translates whatever it is handed that the language's catalog holds.
"""

from __future__ import annotations

from digest.render.i18n import N_, own_texts, translator, words
from digest.settings import Settings

Voice = tuple[str, tuple[tuple[str, str], ...]]  # a language and a newsletter's own wordings


def say(voice: Voice, text: str, **values) -> str:
    """`text` (an English msgid) in the voice's language and wording, its %(name)s placeholders filled."""
    translated = translator(*voice).gettext(text)
    return translated % values if values else translated


def voice_of(settings: Settings, slug: str) -> Voice:
    """Newsletter `slug`'s language and own wordings; the site's language for a page of no newsletter (or of one
    we do not know)."""
    for newsletter in settings.newsletters:
        if newsletter.slug == slug:
            return newsletter.language or settings.site.language, own_texts(newsletter)
    return settings.site.language, ()


def page_words(settings: Settings, slug: str, context: dict, values: dict | None) -> dict:
    """A page's words: gettext for its templates, lang and dir, each signup box's own (`speak`), and its title
    and message (English msgids, or a subscribers error's text) translated with `values` filled in."""
    voice = voice_of(settings, slug)
    texts = {key: say(voice, context[key], **(values or {})) for key in ("title", "message") if key in context}
    speak = {n.slug: words(*voice_of(settings, n.slug)) for n in settings.newsletters}
    return {**words(*voice), "speak": speak, **texts}


SUBSCRIBER_ANSWERS = (  # subscribers/*.py raise these; keep them word for word
    N_("Please, enter correct email address"),
    N_("That is already your address."),
    N_("This link has expired. Ask for the change again on your subscriptions page."),
    N_("This link is not valid. Check that you copied the whole link."),
    N_("This link has been used already, or your address changed since."),
    N_("We cannot move your subscriptions to this address. Please write to us if you think this is wrong."),
    N_("This confirmation link has already been used or replaced by a newer one."),
    N_("This confirmation link has expired."),
    N_("This link cannot be renewed."),
    N_("We already sent you a new link recently. Please check your inbox."),
    N_("We hold no subscription for this link; there is nothing to unsubscribe."),
    N_("This undo link no longer applies. You can sign up again on the signup page."),
    N_("We hold no subscription for this link any more."),
    N_("A pause lasts 1, 2, 4 or 8 weeks."),
    N_("Choose at least one section, or unsubscribe from this newsletter."),
    N_("Choose every issue or the weekly roundup."),
    N_("You are not subscribed to this newsletter."),
    N_("This confirmation link is not valid. Check that you copied the whole link."),
    N_("This unsubscribe link is not valid. Check that you copied the whole link."),
    N_("This undo link has expired. You can sign up again on the signup page."),
    N_("This undo link is not valid."),
)
