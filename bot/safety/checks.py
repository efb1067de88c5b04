"""Sending safety checks and their one reminder (see :mod:`bot.safety`).

:meth:`SafetyChecks.tick` is idempotent: a check is an alert with source
``safety`` and source id ``check:<alert id>`` (``reminder:<alert id>`` for the
reminder), unique in the database, so two ticks (or two processes) never send one
twice, and a crash between deciding and committing loses nothing (the next tick
decides again). Checks and reminders go through :class:`~bot.lifecycle.Lifecycle`
and the delivery ledger like any alert, to the same kinds of subscriber as the
alert they follow (kind, test flag), in the affected wards, never on X.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.domain import Alert, SafetyCheck
from bot.safety.settings import SafetySettings, load_safety
from bot.service import Service
from bot.store import alerts as alert_store
from bot.store import deliveries as ledger
from bot.store import safety as store
from bot.store.fanout import BROADCAST

log = logging.getLogger(__name__)
OPERATOR = "safety-check"


@dataclass(frozen=True, kw_only=True)
class TickResult:
    checks: tuple[int, ...] = ()  # alert ids a check was sent for
    reminders: tuple[int, ...] = ()


def event_of(alert: Alert) -> str | None:
    """The event an alert reports, across its reports: JMA's kind and EventID (its
    event key is ``jma:<InfoKind>:<EventID>``, and 震度速報 and 震源・震度情報 differ in
    InfoKind); for other sources the alert itself."""
    key = alert.payload.event_key or ""
    if alert.source == "jma" and key.startswith("jma:") and key.count(":") >= 2:
        return f"jma:{alert.kind.value}:{key.rsplit(':', 1)[1]}"
    return None


class SafetyChecks:
    def __init__(self, svc: Service, settings: SafetySettings | None = None) -> None:
        self.svc = svc
        self.settings = settings if settings is not None else load_safety(svc.config)

    def tick(self, now: dt.datetime | None = None) -> TickResult:
        """Send the checks and reminders that are due at ``now``."""
        if not self.settings.enabled:
            return TickResult()
        now = now or dt.datetime.now(dt.UTC)
        since = now - self.settings.window
        with self.svc.engine.connect() as conn:
            rows = store.candidates(conn, since, now - self.settings.delay)
            reminders = store.due_reminders(conn, now - self.settings.reminder_after, since)
        checks = [alert_id for row in rows if (alert_id := self._check(row, now)) is not None]
        sent = [alert_id for row in reminders
                if (alert_id := self._remind(row, now)) is not None]
        return TickResult(checks=tuple(checks), reminders=tuple(sent))

    def _check(self, row: Any, now: dt.datetime) -> int | None:
        alert = alert_store.row_to_alert(row)
        trigger = self.settings.trigger_for(alert)
        if trigger is None:
            return None
        wards = trigger.affected_wards(alert, self.svc.config.ward_codes)
        event = event_of(alert)
        if event is not None and wards:
            with self.svc.engine.connect() as conn:
                asked = store.wards_asked(conn, event)
            wards = tuple(w for w in wards if w not in asked)  # nobody is asked twice
        if not wards:
            return None
        alert_id = int(row.id)
        check = Alert(source=store.SOURCE, source_id=store.check_source_id(alert_id),
                      kind=alert.kind, severity=alert.severity, urgency=alert.urgency,
                      wards=wards, issued=now, test=alert.test,
                      payload=SafetyCheck(alert_id=alert_id, event=event))
        if self._submit(check, rule=trigger.name, recipients=None):
            log.info("safety check for alert %d sent to wards %s (trigger %s)", alert_id,
                     ", ".join(wards), trigger.name, extra={"alert_id": alert_id})
            return alert_id
        return None

    def _remind(self, check_row: Any, now: dt.datetime) -> int | None:
        check = alert_store.row_to_alert(check_row)
        payload = check.payload
        assert isinstance(payload, SafetyCheck)
        plans = self.svc.plans
        with self.svc.engine.connect() as conn:
            reached = ledger.reached(conn, int(check_row.id),
                                     (n for n, p in plans.items() if p.mode == BROADCAST))
            done = store.answered(conn, payload.alert_id)
        waiting = {k: v for k, v in reached.items() if k[0] in plans and k not in done
                   and plans[k[0]].mode != BROADCAST}
        if not waiting:
            return None
        # No event: a reminder never counts as the check of an event.
        reminder = Alert(source=store.SOURCE,
                         source_id=store.check_source_id(payload.alert_id, reminder=True),
                         kind=check.kind, severity=check.severity, urgency=check.urgency,
                         wards=check.wards, issued=now, test=check.test,
                         payload=SafetyCheck(alert_id=payload.alert_id, reminder=True))
        if self._submit(reminder, rule="safety-reminder", recipients=waiting):
            log.info("safety check reminder for alert %d: %d recipients", payload.alert_id,
                     len(waiting), extra={"alert_id": payload.alert_id})
            return payload.alert_id
        return None

    def _submit(self, alert: Alert, *, rule: str,
                recipients: dict[tuple[str, str], int] | None) -> bool:
        lifecycle = self.svc.lifecycle
        prepared = dataclasses.replace(lifecycle.prepare(alert, original=None),
                                       recipients=recipients)
        try:
            lifecycle.submit(prepared, operator=OPERATOR, action="auto", rule=rule)
        except sa.exc.IntegrityError:  # another process sent it first
            log.info("safety: %s was already sent", alert.source_id)
            return False
        return True


async def run_checks(svc: Service, stop: asyncio.Event, wake: Callable[[], object]) -> None:
    """Tick every ``interval_seconds`` until ``stop``; ``wake`` the dispatcher when a
    check or reminder was queued. A failing tick is logged and tried again."""
    from bot.health import Check

    checks = SafetyChecks(svc)
    if not checks.settings.enabled:
        return
    log.info("safety checks: %d triggers, reminder after %s", len(checks.settings.triggers),
             checks.settings.reminder_after)
    failures = 0
    svc.readiness.register("safety_checks", lambda: Check(
        ok=failures < 3, detail=f"{failures} failed rounds in a row" if failures else "ok"))
    while not stop.is_set():
        try:
            result = await asyncio.to_thread(checks.tick)
        except Exception:
            failures += 1
            log.exception("safety checks: tick failed; trying again")
        else:
            failures = 0
            if result.checks or result.reminders:
                wake()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), checks.settings.interval_seconds)
