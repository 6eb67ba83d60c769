"""/api/v1 endpoints that make and send issues (scope issues:write), through the console's own flows: a draft
for review, its approval, and a send, which names the number of readers it goes to (as the console's second
step does), so a request built for yesterday's audience is refused instead of mailing today's."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from digest.flows import editor_mail, editorial, overview, sending
from digest.models import ReviewDraft
from digest.web.admin import accounts
from digest.web.admin.issues import Sender
from digest.web.api.spec import Endpoint, Param

DRAFT = {"type": "object", "required": ["id", "newsletter", "state", "version"], "properties": {
    "id": {"type": "integer"}, "newsletter": {"type": "string"}, "state": {"type": "string"},
    "version": {"type": "integer"}, "slot_at": {"type": "string"}, "approved_by": {"type": ["string", "null"]},
    "issue_id": {"type": ["integer", "null"]}}}
SENT = {"type": "object", "required": ["issue", "readers"], "properties": {
    "issue": {"type": "integer"}, "readers": {"type": "integer"}}}


def issue_endpoints(runtime, problem_type) -> list[Endpoint]:
    known = {n.slug: n for n in runtime.settings.newsletters}
    sender = Sender(runtime)

    def as_dict(row: ReviewDraft) -> dict:
        return {"id": row.id, "newsletter": row.newsletter, "state": row.state, "version": row.version,
                "slot_at": row.slot_at.isoformat(), "approved_by": row.approved_by, "issue_id": row.issue_id}

    def load(request) -> ReviewDraft:
        wanted = request.path_params["id"]
        with runtime.sessions() as session:
            row = session.get(ReviewDraft, int(wanted)) if wanted.isdigit() and len(wanted) < 12 else None
        if row is None or row.newsletter not in known:
            raise problem_type(404, "Not found", "no such draft")
        return row

    def readers_named(slug: str, body: dict) -> int:
        readers = overview.recipient_count(runtime, slug)
        if body.get("readers") != readers:
            raise problem_type(409, "Confirm the audience", f"this sends to {readers} readers: repeat the request "
                                                            f"with \"readers\": {readers}")
        return readers

    def list_drafts(caller, request, session, body):
        rows = session.scalars(select(ReviewDraft).order_by(ReviewDraft.id.desc()).limit(50))
        return {"data": [as_dict(r) for r in rows if r.newsletter in known]}

    def make_draft(caller, request, session, body):
        newsletter = known.get(str(body.get("newsletter", "")))
        if newsletter is None:
            raise problem_type(400, "Unknown newsletter", f"one of: {', '.join(known)}")
        if newsletter.review == "off":
            raise problem_type(409, "Not under review", "this newsletter sends without drafts: POST .../send")
        now = runtime.now()
        row, made = editorial.prepare(runtime, newsletter, f"manual-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}",
                                      now, fetch=False)
        if row is None:
            raise problem_type(409, "Nothing new", "no article waits for an issue")
        if made:
            editor_mail.ask_editors(runtime, newsletter, row)
        return as_dict(row)

    def approve(caller, request, session, body):
        row = load(request)
        version = body.get("version")
        try:
            approved = editorial.approve(runtime, row.id, version if isinstance(version, int) else -1, caller.who)
        except editorial.ReviewError as exc:
            raise problem_type(409, "Not approved", str(exc)) from None
        with runtime.sessions() as session, session.begin():  # the same audit line as the console's approval
            accounts.record(session, caller.who, "draft.approve", runtime.now(), target=f"draft:{row.id}",
                            detail=f"version {version}")
        return as_dict(approved)

    def send_draft(caller, request, session, body):
        row = load(request)
        if row.state != "approved":
            raise problem_type(409, "Not approved", "only an approved draft is sent")
        readers = readers_named(row.newsletter, body)
        issue, result = editorial.make_issue(runtime, known[row.newsletter], row.id, required=True)
        if issue is None:
            raise problem_type(409, "Not sent", result)
        sender.start(issue.id)
        return {"issue": issue.id, "readers": readers}

    def send_now(caller, request, session, body):
        slug = request.path_params["slug"]
        if slug not in known:
            raise problem_type(404, "Unknown newsletter", f"one of: {', '.join(known)}")
        if known[slug].review == "required":
            raise problem_type(409, "Review required", "draft it (POST /api/v1/drafts), approve, then send the draft")
        readers = readers_named(slug, body)
        outcome = sending.send_newsletter(runtime, slug, fetch=False, deliver=False)
        if outcome.new_issue_id is None:
            raise problem_type(409, "Nothing new", "no article waits for an issue")
        sender.start(outcome.new_issue_id)
        return {"issue": outcome.new_issue_id, "readers": readers}

    draft_id = (Param("id", "path", {"type": "string", "pattern": "^[0-9]{1,11}$"}),)
    send_body = {"type": "object", "required": ["readers"], "properties": {"readers": {"type": "integer"}}}
    conflicts = (400, 401, 403, 404, 409, 429)
    return [
        Endpoint("GET", "/api/v1/drafts", "issues:read", "The newest drafts and their state", list_drafts,
                 response={"type": "object", "required": ["data"], "properties": {
                     "data": {"type": "array", "items": DRAFT}}}),
        Endpoint("POST", "/api/v1/drafts", "issues:write", "Draft the next issue now for review (editors are asked)",
                 make_draft, body={"type": "object", "required": ["newsletter"], "properties": {
                     "newsletter": {"enum": list(known)}}}, response=DRAFT, status=201, errors=conflicts,
                 separate=True),
        Endpoint("POST", "/api/v1/drafts/{id}/approve", "issues:write",
                 "Approve the version you read (its rendering is frozen)", approve, draft_id,
                 body={"type": "object", "required": ["version"], "properties": {"version": {"type": "integer"}}},
                 response=DRAFT, errors=conflicts, separate=True),
        Endpoint("POST", "/api/v1/drafts/{id}/send", "issues:write",
                 "Send an approved draft now, naming how many readers it goes to", send_draft, draft_id,
                 body=send_body, response=SENT, status=202, errors=conflicts, separate=True),
        Endpoint("POST", "/api/v1/newsletters/{slug}/send", "issues:write",
                 "Make and send the next issue now (no review), naming how many readers it goes to", send_now,
                 (Param("slug", "path", {"enum": list(known)}),), body=send_body, response=SENT, status=202,
                 errors=conflicts, separate=True),
    ]
