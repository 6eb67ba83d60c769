"""The daemon's clock: cron jobs per newsletter (its issues, its weekly roundup), a gather job, catch-up, one leader.

APScheduler 3 fires the jobs (DST is the library's business); every firing
calls the same flow as `digest send`, keyed by the slot it was
scheduled for, so a retry, a restart or a second daemon can never make a
second issue for that slot. After downtime, only the latest missed slot is
sent, and only if it is within the grace period; the others are logged as
skipped. Only the leader (digest.daemon.leader) schedules; standbys wait to take over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from digest import store
from digest.analytics.rollup import roll_up
from digest.flows import (editor_mail, editorial, gathering, overview, resuming, retention, roundup, sending,
                          webhook_delivery)
from digest.flows.runtime import Runtime
from digest.settings import NewsletterSettings, make_trigger
from digest.daemon.leader import LeaderLock

log = logging.getLogger(__name__)
MAX_FIRES = 20_000
# The leader looks for interrupted issues at once when it starts or takes over, then this often.
RESUME_EVERY_MINUTES = 5
MAINTAIN_AFTER_MINUTES = 10  # retention runs daily, first this long after leading (catch-up and resumes first)
WEBHOOK_SECONDS = 2  # the leader looks for new events this often


def fire_times(trigger, start: datetime, end: datetime, limit: int = MAX_FIRES) -> list[datetime]:
    """The trigger's fire times in [start, end], oldest first (at most `limit`)."""
    times: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end and len(times) < limit:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return times


def timetables(newsletter: NewsletterSettings) -> list[tuple[str, object]]:
    """(slot prefix, trigger): the newsletter's issues ("") and, if it has one, its weekly roundup."""
    zone = ZoneInfo(newsletter.timezone)
    out = [("", make_trigger(newsletter.schedule, zone))]
    if newsletter.roundup_schedule:
        out.append((roundup.ROUNDUP_SLOT, make_trigger(newsletter.roundup_schedule, zone)))
    return out


def slot_key(fire: datetime) -> str:
    return fire.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_catch_up(fires: list[datetime], done: set[str], now: datetime,
                  grace: timedelta) -> tuple[datetime | None, list[datetime]]:
    """(the slot to send now, the missed slots to skip): only the latest missed one, and only within grace.

    Slots older than the latest one already sent are history, not missed.
    """
    sent = [fire for fire in fires if slot_key(fire) in done]
    missed = [fire for fire in fires if fire <= now and slot_key(fire) not in done and (not sent or fire > sent[-1])]
    if not missed:
        return None, []
    latest = missed[-1]
    if now - latest <= grace:
        return latest, missed[:-1]
    return None, missed


def describe_skipped(slug: str, skipped: list[datetime], run: datetime | None, now: datetime,
                     grace: timedelta) -> list[str]:
    """At most two log lines however many slots a downtime missed: those past the grace period, and those
    within it that the latest missed slot (sent now) replaces."""
    late = [fire for fire in skipped if now - fire > grace]
    replaced = [fire for fire in skipped if now - fire <= grace]
    lines = []
    if late:
        span = slot_key(late[0]) if len(late) == 1 else f"{slot_key(late[0])} to {slot_key(late[-1])}"
        lines.append(f"{slug}: skipping {len(late)} missed slot{'s' if len(late) != 1 else ''} ({span}): "
                     f"more than the grace period of {grace} late")
    if replaced and run is not None:
        lines.append(f"{slug}: skipping {len(replaced)} missed slot{'s' if len(replaced) != 1 else ''} within the "
                     f"grace period: the latest, {slot_key(run)}, is sent instead")
    return lines


def recent_fires(trigger, now: datetime, grace: timedelta) -> list[datetime]:
    """The fire times before now that a downtime may have missed: back to the previous one, however old.

    Windows widen from a day to a year until one holds a fire time; a
    seconds-level schedule looks at the grace window only.
    """
    for days in (1, 7, 31, 366):
        fires = fire_times(trigger, now - max(2 * grace, timedelta(days=days)), now)
        if len(fires) >= MAX_FIRES:
            return fire_times(trigger, now - 2 * grace, now)
        if fires:
            return fires
    return []


def previous_fire(trigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest fire time at or before now: the slot a firing job stands for.

    Narrow windows first: a job fires on time, so a seconds-level schedule
    finds its slot in a few steps instead of walking the whole grace period.
    """
    for window in (timedelta(seconds=5), timedelta(minutes=2), timedelta(hours=2), grace + timedelta(minutes=1)):
        fires = fire_times(trigger, now - window, now)
        if fires:
            return fires[-1]
    return None


class Daemon:
    """The scheduler process: leader or standby, reloadable, stoppable."""

    def __init__(self, load_runtime: Callable[[], Runtime], stop: threading.Event) -> None:
        self.load_runtime = load_runtime
        self.rt = load_runtime()
        self.stop = stop
        self.reload_requested = threading.Event()
        self.lock = LeaderLock(self.rt.sessions.kw["bind"])
        self.role = "starting"
        self.last_runs: dict[str, dict] = {}
        self.last_resumed: dict[int, dict] = {}  # issue id -> what the last resume round did
        self.review_fetched: dict[str, str] = {}  # newsletter -> the slot the review round last fetched for
        self.on_reload: Callable[[Runtime], None] | None = None  # e.g. rebuild the web app
        # A thread per newsletter, gathering and retention: one long send must not make another slot miss its window.
        threads = len(self.rt.settings.newsletters) + 3
        self.scheduler = BackgroundScheduler(timezone=timezone.utc, executors={"default": ThreadPoolExecutor(threads)},
                                             job_defaults={"coalesce": True, "max_instances": 1})

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.rt.settings.schedule.grace_minutes)

    def run(self, poll: float = 1.0) -> None:
        self.scheduler.start()
        self.role = "standby"
        try:
            while not self.stop.is_set():
                if self.reload_requested.is_set():
                    self.reload()
                if self.role != "leader" and self.lock.try_acquire():
                    self.lead()
                elif self.role == "leader" and not self.lock.still_held():
                    self.stand_by()
                self.stop.wait(poll)
        finally:
            log.info("stopping: waiting for the jobs in flight")
            self.scheduler.shutdown(wait=True)
            self.lock.release()

    def lead(self) -> None:
        self.role = "leader"
        log.info("this daemon leads the scheduling")
        self.catch_up()
        self.add_jobs()
        # Now, and every few minutes: an issue interrupted here or on a leader that died goes out today.
        self.scheduler.add_job(self.resume, "interval", minutes=RESUME_EVERY_MINUTES, id="resume",
                               replace_existing=True, next_run_time=datetime.now(timezone.utc))

    def stand_by(self) -> None:
        self.role = "standby"
        self.scheduler.remove_all_jobs()
        log.warning("no longer the leader: standing by")

    def reload(self) -> None:
        self.reload_requested.clear()
        old = self.rt
        try:
            self.rt = self.load_runtime()
        except Exception as exc:  # a bad edit must not kill a running daemon
            log.error("config reload failed, keeping the previous settings: %s", exc)
            return
        engine = old.sessions.kw["bind"]
        if engine is not self.lock.engine:  # the leader lock keeps its own connection on the first engine
            engine.dispose()  # idle connections close now; a job still using one returns it and it closes
        if self.on_reload is not None:
            try:
                self.on_reload(self.rt)
            except Exception:  # the scheduler has the new settings; the old pages keep serving
                log.exception("the web app could not be rebuilt with the new settings")
        log.info("config reloaded")
        if self.role == "leader":
            self.scheduler.remove_all_jobs()
            self.add_jobs()
            self.scheduler.add_job(self.resume, "interval", minutes=RESUME_EVERY_MINUTES, id="resume",
                                   replace_existing=True)

    def add_jobs(self) -> None:
        grace_seconds = max(1, int(self.grace.total_seconds()))
        for newsletter in self.rt.settings.newsletters:
            for prefix, trigger in timetables(newsletter):
                self.scheduler.add_job(self.fire, trigger, args=[newsletter.slug, prefix],
                                       id=f"{prefix or 'send-'}{newsletter.slug}", replace_existing=True,
                                       misfire_grace_time=grace_seconds)
        minutes = self.rt.settings.schedule.gather_interval_minutes
        if minutes > 0:
            self.scheduler.add_job(self.gather, "interval", minutes=minutes, id="gather", replace_existing=True)
        if self.rt.settings.webhooks or self.rt.settings.api.enabled:  # endpoints may come through the API
            self.scheduler.add_job(self.webhooks, "interval", seconds=WEBHOOK_SECONDS, id="webhooks",
                                   replace_existing=True)
        self.scheduler.add_job(self.maintain, "interval", hours=24, id="maintain", replace_existing=True,
                               next_run_time=datetime.now(timezone.utc) + timedelta(minutes=MAINTAIN_AFTER_MINUTES))
        if any(n.review != "off" for n in self.rt.settings.newsletters):
            self.scheduler.add_job(self.review_round, "interval", seconds=self.rt.settings.schedule.review_poll_seconds,
                                   id="review", replace_existing=True, next_run_time=datetime.now(timezone.utc))

    def catch_up(self) -> None:
        now = self.rt.now()
        for newsletter in self.rt.settings.newsletters:
            for prefix, trigger in timetables(newsletter):
                with self.rt.sessions() as session:
                    done = {slot[len(prefix):] for slot in store.scheduled_slots(session, newsletter.slug)
                            if slot.startswith(prefix)}
                run, skipped = plan_catch_up(recent_fires(trigger, now, self.grace), done, now, self.grace)
                for line in describe_skipped(f"{newsletter.slug}{' roundup' if prefix else ''}", skipped, run, now,
                                             self.grace):
                    log.warning("%s", line)
                if run is not None:
                    log.info("%s: sending missed slot %s%s (%s late, within the grace period)", newsletter.slug,
                             prefix, slot_key(run), now - run)
                    self.scheduler.add_job(self.send, args=[newsletter.slug, run, prefix],
                                           id=f"catch-up-{prefix}{newsletter.slug}", replace_existing=True)

    def fire(self, slug: str, prefix: str = "") -> None:
        trigger = dict(timetables(self.rt.settings.newsletter(slug)))[prefix]
        now = self.rt.now()
        self.send(slug, previous_fire(trigger, now, self.grace) or now, prefix)

    def send(self, slug: str, fire: datetime, prefix: str = "") -> None:
        """One slot of a newsletter: its issue, or (prefix roundup.ROUNDUP_SLOT) its weekly roundup."""
        slot = prefix + slot_key(fire)
        record = {"slot": slot, "started": self.rt.now().isoformat()}
        self.last_runs[slug] = record
        try:
            if self.rt.settings.newsletter(slug).review != "off":
                record["result"] = editorial.fire(self.rt, slug, slot, fire, self.grace, stop=self.stop)
                log.info("%s: slot %s: %s", slug, slot, record["result"])
                return
            if prefix:
                record["result"] = roundup.send_roundup(self.rt, slug, slot, fire, stop=self.stop)[2]
                log.info("%s: slot %s: %s", slug, slot, record["result"])
                return
            outcome = sending.send_newsletter(self.rt, slug, slot=slot, stop=self.stop)
        except Exception as exc:  # one failed run is logged and reported; the daemon lives on
            log.exception("%s: slot %s failed", slug, slot)
            record["result"] = f"error: {exc}"
            return
        if outcome.nothing_new:
            record["result"] = "nothing new: no issue"
        elif outcome.slot_taken:
            record["result"] = "this slot already had its issue"
        else:
            sent = sum(r.sent for r in outcome.reports)
            record["result"] = f"issue {outcome.new_issue_id}: {sent} sent"
        log.info("%s: slot %s: %s", slug, slot, record["result"])

    def resume(self) -> None:
        try:
            reports = resuming.resume_unfinished(self.rt, stop=self.stop)
        except Exception:  # logged; the next round tries again
            log.exception("resuming unfinished issues failed")
            return
        for report in reports:
            self.last_resumed[report.issue_id] = {
                "at": self.rt.now().isoformat(), "sent": report.sent, "failed": report.failed,
                "finished": report.finished, "paused": report.paused_reason}

    def review_round(self) -> None:
        """Draft each reviewed newsletter's next slot once it is within review_lead_minutes, then settle the
        drafts whose slot has come: send the approved (or, "optional", any), hold the late "required" ones."""
        now = self.rt.now()
        for newsletter in self.rt.settings.newsletters:
            if newsletter.review == "off" or self.stop.is_set():
                continue
            for prefix, trigger in timetables(newsletter):
                upcoming = trigger.get_next_fire_time(None, now)
                if upcoming is None or upcoming - timedelta(minutes=newsletter.review_lead_minutes) > now:
                    continue
                slot = prefix + slot_key(upcoming)
                # The sources are asked once per slot here (and again by the slot itself): with nothing new,
                # later rounds look at what the gather job stores instead of fetching every poll all lead long.
                fetch = self.review_fetched.get(newsletter.slug + prefix) != slot
                self.review_fetched[newsletter.slug + prefix] = slot
                try:
                    row, made = editorial.prepare(self.rt, newsletter, slot, upcoming, fetch=fetch)
                    if made:
                        editor_mail.ask_editors(self.rt, newsletter, row)
                except Exception:
                    log.exception("%s: preparing the draft for %s failed", newsletter.slug, slot)
        try:
            editor_mail.ask_pending(self.rt)
        except Exception:
            log.exception("asking the editors again failed")
        for row in editorial.unsettled(self.rt):
            newsletter = next((n for n in self.rt.settings.newsletters if n.slug == row.newsletter), None)
            if newsletter is None or newsletter.review == "off" or row.slot_at > now or self.stop.is_set():
                continue
            try:
                result = editorial.fire(self.rt, row.newsletter, row.slot, row.slot_at, self.grace, stop=self.stop)
            except Exception:
                log.exception("%s: settling draft %d failed", row.newsletter, row.id)
                continue
            if "waiting" not in result:
                log.info("%s: slot %s: %s", row.newsletter, row.slot, result)
                self.last_runs[row.newsletter] = {"slot": row.slot, "result": result}

    def webhooks(self) -> None:
        try:
            with webhook_delivery.fetcher_for(self.rt.settings) as fetcher:
                while not self.stop.is_set() and webhook_delivery.run_round(self.rt, fetcher).delivered:
                    pass  # a backlog goes out round after round, not one batch every few seconds
        except Exception:  # logged; the next round tries again
            log.exception("delivering webhooks failed")

    def maintain(self) -> None:
        try:
            retention.prune(self.rt.sessions, self.rt.settings.retention, self.rt.now(), stop=self.stop)
            roll_up(self.rt.sessions, self.rt.settings.analytics.retention_days, self.rt.now(), stop=self.stop)
        except Exception:  # logged; tomorrow's round tries again
            log.exception("retention failed")

    def gather(self) -> None:
        try:
            gathering.gather_all(self.rt, stop=self.stop)
        except Exception:
            log.exception("gathering failed")

    def status(self) -> dict:
        report = overview.status(self.rt.settings, self.rt.sessions, self.rt.now, role=self.role,
                                 scheduler=self.scheduler if self.role == "leader" else None,
                                 last_runs=self.last_runs)
        return {**report, "resumed_issues": {str(k): v for k, v in self.last_resumed.items()}}

