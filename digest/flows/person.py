"""Everything held about one reader, to hand over (export) or to erase (forget): one copy of what that covers,
for `digest subscribers export|forget` and the API alike (the subscribers package holds the person; the digest
side adds what it keeps about them: deliveries, bounces and complaints, clicks tied to them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from digest import store
from digest.analytics.readers import forget_reader, reader_clicks
from digest.flows import feedback_counts
from subscribers import export_person, forget_person


def export_everything(session: Session, address: str) -> dict | None:
    """The person's subscriptions, consent record and suppression, their deliveries and returned mail; None if
    nothing is held about the address."""
    data = export_person(session, address)
    if data is None:
        return None
    data["deliveries"] = store.deliveries_of(session, data["email"])
    data["bounces_and_complaints"] = feedback_counts.person_feedback(session, data["email"])
    data["clicks"] = reader_clicks(session, data["email"])  # analytics.per_reader: clicks tied to them
    return data


def forget_everything(session: Session, address: str) -> int | None:
    """Erase the person, their deliveries and them from their clicks (the counts stay); their former id, or None
    if nothing was held."""
    subscriber_id = forget_person(session, address)
    if subscriber_id is not None:
        store.forget_deliveries(session, subscriber_id)
        forget_reader(session, subscriber_id)
    return subscriber_id


__all__ = ["export_everything", "forget_everything"]
