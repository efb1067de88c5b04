"""The :class:`Lifecycle`: every state change of an alert (see :mod:`bot.lifecycle`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot import metrics
from bot.domain import Alert, AlertStatus, MsgType
from bot.errors import OperatorError
from bot.render import Rendering
from bot.store import alerts as alert_store
from bot.store import deliveries as ledger
from bot.store.fanout import BROADCAST, plan_counts, write_deliveries

if TYPE_CHECKING:
    from bot.service import Service

from bot.freshness import jst_minutes
from bot.lifecycle.table import ON_ORIGINAL, OUT, TRANSITIONS, WAITING, Event, S, check

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """An alert ready to commit: rendered, translated and counted."""

    alert: Alert
    renderings: tuple[Rendering, ...] = ()
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    original: Any = None  # the stored row a follow-up refers to (None: not found)
    issued_by: str | None = None  # stored alerts: who issued it
    # Only these recipients ((channel, user id) → the delivery to reply to), e.g. a
    # safety check's reminder to those who have not answered; None: the usual fan-out.
    recipients: Mapping[tuple[str, str], int] | None = None
    # Post to X in every configured language even beyond the budget (bot/xbudget.py);
    # an operator's explicit choice, audited.
    over_budget: bool = False


@dataclass(frozen=True, kw_only=True)
class Submitted:
    id: int
    status: AlertStatus
    action: str
    note: str | None = None
    duplicate: bool = False


class Lifecycle:
    def __init__(self, service: Service) -> None:
        self.svc = service
        self.engine = service.engine

    # ------------------------------------------------------------ prepare

    def prepare(self, alert: Alert, *, original: Any = ..., render: bool = True) -> Prepared:
        """Render (and machine-translate) every language for every channel and count
        the recipients. Runs outside any transaction; the translator may write its
        cache meanwhile."""
        svc = self.svc
        if original is ...:
            original = None
            if alert.msg_type is not MsgType.ALERT:
                with self.engine.connect() as conn:
                    original = alert_store.find_original(conn, alert.references)
        if not render:
            return Prepared(alert=alert, original=original)
        limits = {name: plan.limits for name, plan in svc.plans.items()}
        out: list[Rendering] = []
        for language in svc.config.languages:
            out.extend(svc.renderer.render_all(alert, language, limits))
        with self.engine.connect() as conn:
            counts = plan_counts(conn, alert, svc.plans)
        return Prepared(alert=alert, renderings=tuple(out), counts=counts, original=original)

    # ------------------------------------------------------------ submit

    def submit(self, item: Alert | Prepared, *, operator: str, action: str = "auto",
               require_approval: bool = False, rule: str | None = None,
               reason: str | None = None, override: str | None = None) -> Submitted:
        """Store an alert under a policy action: ``auto`` (accept now, or wait for a
        second operator with ``require_approval``), ``hold``, ``ignore`` or ``follow``
        (a follow-up from a feed: sent when the original went out). ``override``: the
        reason one operator gives for sending without a second (emergency override)."""
        prepared = item if isinstance(item, Prepared) else None
        alert = prepared.alert if prepared else item
        assert isinstance(alert, Alert)
        if prepared is None:
            prepared = self.prepare(alert, render=False)
        original = prepared.original
        note = None
        withdraw = False
        if action == "follow":
            if original is not None and S(original.status) in OUT | {S.LIFTED}:
                action = "auto"
            elif (original is not None and alert.msg_type is MsgType.CANCEL
                  and S(original.status) in WAITING):
                action, withdraw = "ignore", True
                note = f"alert {original.id} had not gone out; withdrawn"
            else:
                action, note = "ignore", "the alert it refers to was never sent"
        older: list[Any] = []
        if action in ("auto", "hold") and alert.msg_type is MsgType.ALERT:
            newer, older = self._same_event(alert)
            if newer is not None:
                action = "ignore"
                note = (f"superseded: alert {newer.id} ({newer.msg_type}) about the same event "
                        f"was issued later ({jst_minutes(newer.issued)})")
        event = {"ignore": Event.IGNORE, "hold": Event.HOLD}.get(
            action, Event.SUBMIT if require_approval else Event.ACCEPT)
        if event is Event.ACCEPT and not prepared.renderings:
            prepared = self.prepare(alert, original=original)
        status = check(event, None)
        with self.engine.begin() as conn:
            if original is not None and alert.msg_type is not MsgType.ALERT:
                # First, under the original's row lock: of two racing follow-ups the
                # second sees the first's change and stops here.
                _check_original(conn, original.id, alert.msg_type, operator)
            alert_id = alert_store.insert_alert(
                conn, alert, status=status.value, created_by=operator, policy_action=action,
                policy_rule=rule, ref_alert_id=original.id if original is not None else None,
                status_reason=note or reason)
            alert_store.audit(conn, operator, "issue", alert_id=alert_id,
                              kind=alert.kind.value, msg_type=alert.msg_type.value,
                              status=status.value, wards=list(alert.wards), test=alert.test,
                              rule=rule)
            if override:
                alert_store.audit(conn, operator, "emergency_override", alert_id=alert_id,
                                  reason=override)
            for old in older:
                self._supersede(conn, old, alert_id, operator)
            if withdraw:
                self._move(conn, original.id, Event.WITHDRAW, operator,
                           reason=f"withdrawn by alert {alert_id} ({alert.source})")
            if event is Event.ACCEPT:
                self._accept(conn, alert_id, prepared, operator)
            elif event is Event.SUBMIT and original is not None \
                    and alert.msg_type is MsgType.CANCEL:
                # Stop the wrong message now; send the cancellation when approved.
                n = ledger.stop_pending(conn, original.id, _hold_reason(alert_id))
                if n:
                    log.info("alert %d: %d pending deliveries held until cancellation %d is "
                             "approved", original.id, n, alert_id)
        return Submitted(id=alert_id, status=status, action=action, note=note)

    def _same_event(self, alert: Alert) -> tuple[Any, list[Any]]:
        """(a stored report about the same event issued later, the earlier ones that
        are still open) — JMA's next report on an event replaces the last."""
        key = getattr(alert.payload, "event_key", "")
        if not key:
            return None, []
        with self.engine.connect() as conn:
            rows = alert_store.same_event(conn, key)
        newer = next((r for r in rows if r.issued > alert.issued), None)
        older = [r for r in rows if r.issued <= alert.issued
                 and r.msg_type == MsgType.ALERT.value
                 and S(r.status) in WAITING | {S.QUEUED}]
        return newer, older

    def _supersede(self, conn: sa.Connection, old: Any, alert_id: int, operator: str) -> None:
        """A newer report replaces ``old``: what has not gone out of it never will."""
        reason = f"superseded by alert {alert_id}"
        if S(old.status) in WAITING:
            self._move(conn, old.id, Event.WITHDRAW, operator, reason=reason)
            return
        n = ledger.stop_pending(conn, old.id, reason)
        if n:
            log.info("alert %d: %d pending deliveries stopped; %s", old.id, n, reason,
                     extra={"alert_id": old.id})

    def _accept(self, conn: sa.Connection, alert_id: int, prepared: Prepared,
                requested_by: str, *, acting: str | None = None) -> None:
        """Write renderings and delivery rows; for a follow-up, stop the original first
        and move it on. Inside the caller's transaction: writes only. ``acting``: the
        operator who accepts it now (the approver), when not ``requested_by``."""
        alert, original = prepared.alert, prepared.original
        ledger.write_renderings(conn, alert_id, prepared.renderings)
        metrics.renderings_stored(alert, prepared.renderings)
        reply_to = prepared.recipients
        if alert.msg_type is not MsgType.ALERT and original is not None:
            # An update that adds to the original (offshore observations under a tsunami
            # warning, a refined hypocentre) leaves the original's pending sends alone.
            adds = bool(getattr(alert.payload, "SUPPLEMENTS", False))
            n = 0 if adds else ledger.stop_pending(conn, original.id,
                                                   f"superseded by alert {alert_id}")
            if n:
                log.info("alert %d: %d pending deliveries stopped by alert %d", original.id, n,
                         alert_id, extra={"alert_id": original.id})
            reply_to = ledger.reached(conn, original.id, (
                name for name, plan in self.svc.plans.items() if plan.mode == BROADCAST),
                pending=adds)
            on_original = ON_ORIGINAL.get(alert.msg_type)
            if on_original is not None:
                current = S(alert_store.get_row(conn, original.id, lock=True).status)
                if current in TRANSITIONS[on_original][0]:
                    done = "cancelled" if on_original is Event.CANCEL else "lifted"
                    self._move(conn, original.id, on_original, requested_by,
                               reason=f"{done} by alert {alert_id}", follow_up=alert_id)
                elif not requested_by.startswith("ingest:"):
                    # an operator's second cancellation or lifting: refused, nothing sent
                    raise OperatorError(f"alert {original.id} is already {current.value}")
                else:  # e.g. a second 解除 from a feed: the original stays as it is
                    log.info("alert %d is %s; %s alert %d leaves it so", original.id,
                             current.value, alert.msg_type.value, alert_id,
                             extra={"alert_id": original.id})
        skip = self._x_budget(conn, alert_id, prepared, reply_to, acting or requested_by)
        counts = write_deliveries(conn, alert, alert_id, self.svc.plans, reply_to=reply_to,
                                  skip=skip)
        log.info("alert %d accepted: %s", alert_id,
                 ", ".join(f"{k} {v}" for k, v in counts.items()) or "no channels",
                 extra={"alert_id": alert_id})

    def _x_budget(self, conn: sa.Connection, alert_id: int, prepared: Prepared,
                  reply_to: Mapping[tuple[str, str], int] | None, operator: str
                  ) -> dict[str, dict[str, str]]:
        """The X languages left out of this alert by the budget (bot/xbudget.py),
        decided inside the accepting transaction from the ledger."""
        from bot import xbudget

        plan = self.svc.plans.get(xbudget.CHANNEL)
        alert = prepared.alert
        if plan is None or plan.mode != BROADCAST or alert.test or not alert.payload.PUBLIC:
            return {}
        parts = xbudget.parts_by_language(prepared, plan.broadcast_languages, reply_to)
        if not parts:
            return {}
        ledger.lock_posts(conn, xbudget.CHANNEL)
        spent = xbudget.spent(conn, self.svc.config)
        allotment = xbudget.allot(self.svc.config, spent, parts,
                                  over_budget=prepared.over_budget,
                                  follow_up=reply_to is not None)
        if prepared.over_budget:
            within = xbudget.allot(self.svc.config, spent, parts)
            alert_store.audit(conn, operator, "x_over_budget", alert_id=alert_id,
                              posts=allotment.posts_planned,
                              cost=round(allotment.cost_planned, 6),
                              beyond_budget=sorted(within.skipped))
        if allotment.skipped:
            log.warning("alert %d: X posts left out by the budget: %s", alert_id,
                        "; ".join(f"{k} ({v})" for k, v in allotment.skipped.items()),
                        extra={"alert_id": alert_id})
        return {xbudget.CHANNEL: allotment.skipped}

    def _move(self, conn: sa.Connection, alert_id: int, event: Event, operator: str, *,
              reason: str | None = None, approved_by: str | None = None,
              follow_up: int | None = None) -> AlertStatus:
        row = alert_store.get_row(conn, alert_id, lock=True)
        target = check(event, row.status, alert_id)
        extra = {"approved_by": approved_by} if approved_by else {}
        alert_store.set_status(conn, alert_id, target, reason=reason, **extra)
        details: dict[str, Any] = {"reason": reason} if reason else {}
        if follow_up is not None:
            details["follow_up"] = follow_up
        alert_store.audit(conn, operator, event.value, alert_id=alert_id, **details)
        return target

    # ------------------------------------------------------------ operators

    def approve(self, alert_id: int, operator: str, *, prepared: Prepared | None = None
                ) -> Prepared:
        """Approve an alert held by ingest or waiting for a second operator; returns
        what was committed. ``prepared`` is what the approver was shown
        (:meth:`prepare_approval`); it is what goes out."""
        prepared = prepared or self.prepare_approval(alert_id, operator)
        with self.engine.begin() as conn:
            row = alert_store.get_row(conn, alert_id, lock=True)
            _two_person(row, operator)
            self._move(conn, alert_id, Event.APPROVE, operator, approved_by=operator)
            self._accept(conn, alert_id, prepared, str(prepared.issued_by or operator),
                         acting=operator)
        return prepared

    def prepare_view(self, alert_id: int) -> Prepared:
        """A stored alert prepared for showing (no state is checked or changed)."""
        with self.engine.connect() as conn:
            row = alert_store.get_row(conn, alert_id)
            original = (alert_store.get_row(conn, row.ref_alert_id)
                        if row.ref_alert_id is not None else None)
        prepared = self.prepare(alert_store.row_to_alert(row), original=original)
        return dataclasses.replace(prepared, issued_by=row.created_by)

    def prepare_approval(self, alert_id: int, operator: str) -> Prepared:
        """Check that ``operator`` may approve ``alert_id`` and prepare it."""
        with self.engine.connect() as conn:
            row = alert_store.get_row(conn, alert_id)
            original = (alert_store.get_row(conn, row.ref_alert_id)
                        if row.ref_alert_id is not None else None)
        check(Event.APPROVE, row.status, alert_id)
        _two_person(row, operator)
        newer, _ = self._same_event(alert_store.row_to_alert(row))
        if newer is not None and row.msg_type == MsgType.ALERT.value:
            raise OperatorError(f"alert {alert_id} is superseded by alert {newer.id}, a later "
                                "report about the same event; approve that one instead")
        if row.expires is not None and row.expires <= dt.datetime.now(dt.UTC):
            raise OperatorError(f"alert {alert_id} expired at {row.expires.isoformat()}; "
                                "issue a new one if it still applies")
        prepared = self.prepare(alert_store.row_to_alert(row), original=original)
        return dataclasses.replace(prepared, issued_by=row.created_by)

    def reject(self, alert_id: int, operator: str, reason: str) -> None:
        with self.engine.begin() as conn:
            row = alert_store.get_row(conn, alert_id, lock=True)
            self._move(conn, alert_id, Event.REJECT, operator, reason=reason)
            if row.ref_alert_id is not None and row.msg_type == MsgType.CANCEL.value:
                n = ledger.reopen_stopped(conn, int(row.ref_alert_id), _hold_reason(alert_id))
                if n:
                    log.info("alert %d: cancellation %d rejected; %d deliveries queued again",
                             row.ref_alert_id, alert_id, n)

    def withdraw(self, alert_id: int, operator: str, reason: str) -> None:
        """Cancel an alert that has not gone out (held or waiting for approval)."""
        with self.engine.begin() as conn:
            self._move(conn, alert_id, Event.WITHDRAW, operator, reason=reason)

    def follow_up(self, alert_id: int, msg_type: MsgType, *, text_ja: str = "",
                  texts: Mapping[str, str] | None = None) -> Prepared:
        """A correction, lifting or cancellation of ``alert_id`` by an operator,
        prepared for preview and :meth:`submit` (a cancellation's reason is its
        ``text_ja``)."""
        with self.engine.connect() as conn:
            row = alert_store.get_row(conn, alert_id)
        if row.msg_type != MsgType.ALERT.value:
            raise OperatorError(f"alert {alert_id} is itself a {row.msg_type}; "
                                f"use the original alert's id ({row.ref_alert_id})")
        if S(row.status) in WAITING:
            raise OperatorError(
                f"alert {alert_id} has not gone out ({row.status}): reject it with `bousai "
                f"alert reject {alert_id} --reason …` and issue a corrected one")
        event = ON_ORIGINAL.get(msg_type, Event.LIFT)
        allowed = TRANSITIONS[event][0] if msg_type is not MsgType.UPDATE else OUT
        if S(row.status) not in allowed:
            raise OperatorError(f"alert {alert_id} is already {row.status}")
        original = alert_store.row_to_alert(row)
        if not texts and msg_type is MsgType.UPDATE:
            texts = original.texts
        # A lifting or cancellation carries only the operator's texts: the original's
        # translations say what it said, and would read as the follow-up's.
        follow = dataclasses.replace(
            original, id=None, source="cli", source_id=str(uuid.uuid4()), msg_type=msg_type,
            references=original.source_id, issued=dt.datetime.now(dt.UTC), expires=None,
            send_at=None, status=S.DRAFT, body_ja=text_ja or original.body_ja,
            texts=dict(texts or {}))
        return self.prepare(follow, original=row)

    def resend(self, conn: sa.Connection, alert_id: int, operator: str, ids: list[int],
               skipped: int) -> int:
        """Queue failed rows again (inside the caller's transaction)."""
        row = alert_store.get_row(conn, alert_id, lock=True)
        n = ledger.reopen_failed(conn, ids)
        if row.status != S.QUEUED.value:
            alert_store.set_status(conn, alert_id, check(Event.RESEND, row.status, alert_id))
        alert_store.audit(conn, operator, "resend", alert_id=alert_id, deliveries=n,
                          skipped=skipped)
        return n

    def housekeeping(self) -> None:
        from bot.lifecycle.housekeeping import housekeeping

        housekeeping(self.engine)


def _check_original(conn: sa.Connection, original_id: int, msg_type: MsgType,
                    operator: str) -> None:
    """An operator's cancellation or lifting of an original that is no longer in a
    state it applies to is refused ("already cancelled"); feeds are left alone (a
    second 解除 from JMA is stored, and the original stays as it is)."""
    row = alert_store.get_row(conn, original_id, lock=True)
    event = ON_ORIGINAL.get(msg_type)
    if event is None or operator.startswith("ingest:"):
        return
    if S(row.status) not in TRANSITIONS[event][0]:
        raise OperatorError(f"alert {original_id} is already {row.status}")


def _two_person(row: Any, operator: str) -> None:
    if row.status == S.PENDING_APPROVAL.value and row.created_by == operator:
        raise OperatorError(f"alert {row.id} was issued by {operator}; a different "
                            "operator must approve it (two-person rule)")


def _hold_reason(follow_up_id: int) -> str:
    return f"held: cancellation {follow_up_id} waits for approval"
