"""/api/v1 endpoints that change one reader: their choices per newsletter (the reader's own page's rules) and
erasure (what `digest subscribers forget` does). Declared here, served by routes.py's checks."""

from __future__ import annotations

from digest import compose
from digest.flows import person
from digest.web.api.spec import Endpoint, Param
from subscribers import Origin, SubscriberError, normalize_address
from subscribers import preferences as prefs
from subscribers.models import Subscriber

EMAIL = {"type": "string", "maxLength": 320}


def reader_endpoints(settings, now, client_ip, problem_type) -> list[Endpoint]:
    """`problem_type` is routes.Problem (raised for a 4xx answer)."""
    slugs = {n.slug: n for n in settings.newsletters}
    offered = {n.slug: compose.section_titles(n) for n in settings.newsletters}

    def reader(session, request):
        try:
            email = normalize_address(request.path_params["email"])
        except SubscriberError as exc:
            raise problem_type(400, "Bad address", str(exc)) from None
        found = session.query(Subscriber).filter(Subscriber.email == email).one_or_none()
        if found is None:
            raise problem_type(404, "Not found", "we hold nothing for this address")
        return found

    def preferences(caller, request, session, body):
        subscriber = reader(session, request)
        slug = str(body.get("newsletter", ""))
        if slug not in slugs:
            raise problem_type(400, "Unknown newsletter", f"one of: {', '.join(slugs)}")
        origin, at = Origin("api", ip=client_ip(request), user_agent=caller.who), now()
        if "pause_weeks" in body:
            prefs.pause(session, subscriber, slug, _int(body["pause_weeks"]), origin, at)
        if body.get("resume") is True:
            prefs.resume(session, subscriber, slug, origin, at)
        if isinstance(body.get("plain_text"), bool):
            prefs.set_plain_text(session, subscriber, slug, body["plain_text"], origin, at)
        if isinstance(body.get("sections"), list):
            chosen = [str(t) for t in body["sections"]][:100]
            if set(chosen) - set(offered[slug]):
                raise problem_type(400, "Unknown section", f"sections of {slug}: {', '.join(offered[slug])}")
            prefs.set_sections(session, subscriber, slug, chosen, offered[slug], origin, at)
        if "frequency" in body:
            if not slugs[slug].roundup_schedule:
                raise problem_type(400, "No roundup", f"{slug} has no weekly roundup")
            prefs.set_frequency(session, subscriber, slug, str(body["frequency"]), origin, at)
        mine = {c.newsletter: c for c in prefs.choices(session, subscriber, [slug], at)}[slug]
        return {"email": subscriber.email, "newsletter": slug, "subscribed": mine.subscribed,
                "paused_until": mine.paused_until.isoformat() if mine.paused_until else None,
                "plain_text": mine.plain_text, "frequency": mine.frequency,
                "sections": sorted(mine.sections) if mine.sections is not None else list(offered[slug])}

    def forget(caller, request, session, body):
        email = reader(session, request).email
        person.forget_everything(session, email)
        return {"email": email, "erased": True}

    def export(caller, request, session, body):
        return person.export_everything(session, reader(session, request).email)

    path = (Param("email", "path", EMAIL),)
    choice = {"type": "object", "required": ["email", "newsletter"], "properties": {
        "email": EMAIL, "newsletter": {"type": "string"}, "subscribed": {"type": "boolean"},
        "paused_until": {"type": ["string", "null"]}, "plain_text": {"type": "boolean"},
        "frequency": {"enum": [prefs.EACH, prefs.WEEKLY]}, "sections": {"type": "array", "items": {"type": "string"}}}}
    return [
        Endpoint("POST", "/api/v1/subscribers/{email}/preferences", "subscribers:write",
                 "Change a reader's choices for one newsletter, as their own page does", preferences, path,
                 body={"type": "object", "required": ["newsletter"], "properties": {
                     "newsletter": {"enum": list(slugs)}, "pause_weeks": {"enum": list(prefs.PAUSE_WEEKS)},
                     "resume": {"type": "boolean"}, "plain_text": {"type": "boolean"},
                     "frequency": {"enum": [prefs.EACH, prefs.WEEKLY]},
                     "sections": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 100}}},
                 response=choice),
        Endpoint("GET", "/api/v1/subscribers/{email}/export", "subscribers:read",
                 "Everything held about a reader, as `digest subscribers export ADDRESS` gives it (their right of "
                 "access): subscriptions, consent record, suppression, deliveries, bounces and complaints", export,
                 path, response={"type": "object", "required": ["email", "subscriptions", "consent_events",
                                                                 "deliveries"]}),
        Endpoint("POST", "/api/v1/subscribers/{email}/forget", "subscribers:write",
                 "Erase everything held about a reader, consent record included (cannot be undone)", forget, path,
                 response={"type": "object", "required": ["email", "erased"], "properties": {
                     "email": EMAIL, "erased": {"type": "boolean"}}}),
    ]


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
