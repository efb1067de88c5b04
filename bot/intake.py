"""Intake: documents from feeds, files or URLs become stored alerts under the policy.

The one path for every source: parse (pure), decide (policy), dedupe (the same
document twice creates nothing), then :class:`bot.lifecycle.Lifecycle` stores it
(and, for "auto", renders outside and fans out inside one short transaction).
Updates and cancellations ("follow") go out only when the alert they refer to
went out; a cancellation of one that never went out withdraws it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.domain import Alert, AlertStatus, EarlyWarning, Earthquake, MsgType, PolicyAction
from bot.errors import IngestError
from bot.freshness import Freshness
from bot.ingest import Jurisdiction, detect_and_parse
from bot.policy import Decision, Rule, default_action, evaluate, load_rules
from bot.service import Service
from bot.store import alerts as alert_store

log = logging.getLogger(__name__)

#: holds decided by the time of a document rather than a policy rule; their reason is
#: the alert's status reason (a stale one is history and not announced; one from the
#: future may be real news with a wrong clock, and is announced to the operators)
HELD_FOR_TIME = ("stale", "future")

@dataclass
class Intake:
    service: Service
    jurisdiction: Jurisdiction
    rules: list[Rule]
    default: str
    freshness: Freshness
    as_of: dt.datetime | None = None  # judge freshness as if it were this time (drills)

    @classmethod
    def for_service(cls, svc: Service, *, as_of: dt.datetime | None = None) -> Intake:
        return cls(service=svc, jurisdiction=Jurisdiction.from_config(svc.config),
                   rules=load_rules(svc.config), default=default_action(svc.config),
                   freshness=Freshness.from_config(svc.config), as_of=as_of)

    def parse(self, data: bytes, origin: str) -> list[Alert]:
        return detect_and_parse(data, self.jurisdiction, origin=origin)

    def decide(self, alert: Alert) -> Decision:
        """The policy's decision, held when the notice is not current: a stale
        notice, or one from the future (beyond the clock skew allowed), is stored,
        never sent by itself."""
        decision = evaluate(alert, self.rules, self.default)
        if decision.action is PolicyAction.IGNORE:
            return decision
        now = self.as_of or dt.datetime.now(dt.UTC)
        future = self.freshness.future_reason(alert, now)
        if future:
            return Decision(action=PolicyAction.HOLD, rule_name="future", reason=future)
        stale = self.freshness.stale_reason(alert, now)
        if stale:
            return Decision(action=PolicyAction.HOLD, rule_name="stale", reason=stale)
        return decision

    def repeat_of_warning(self, alert: Alert, decision: Decision) -> Decision:
        """An earthquake early warning goes out once per earthquake for the city:
        JMA's later reports (第2報, 第3報 …) refine the forecast every few seconds, and
        residents must not get a new alarm each time. A later report is recorded
        only, unless it newly names the city (JMA's LastKind なし for its area)."""
        p = alert.payload
        if not (isinstance(p, EarlyWarning) and alert.msg_type is MsgType.ALERT and p.event_key
                and decision.action in (PolicyAction.AUTO, PolicyAction.HOLD)
                and not p.newly_warned):
            return decision
        with self.service.engine.connect() as conn:
            rows = alert_store.same_event(conn, p.event_key)
        earlier = next((r for r in rows if r.msg_type == MsgType.ALERT.value
                        and r.issued <= alert.issued
                        and r.status in (*alert_store.WENT_OUT, AlertStatus.SENT.value,
                                         AlertStatus.HELD.value,
                                         AlertStatus.PENDING_APPROVAL.value)), None)
        if earlier is None:
            return decision
        return Decision(action=PolicyAction.IGNORE, rule_name="eew-repeat",
                        reason=f"the city was already warned of this earthquake by alert "
                               f"{earlier.id}; report {p.serial} does not newly name it")

    def process(self, data: bytes, origin: str, *, dry_run: bool = False
                ) -> list[dict[str, Any]]:
        """Records (one per alert, or one with ``error``) as ``bousai ingest --json`` prints.
        Raises nothing for bad documents: the error is in the record and the log."""
        try:
            found = self.parse(data, origin)
        except IngestError as exc:
            log.warning("rejected %s: %s", origin, exc.reason, extra={"feed": origin})
            return [{"origin": origin, "error": exc.reason}]
        except (sa.exc.SQLAlchemyError, MemoryError):
            raise
        except Exception as exc:  # a value no parser check foresaw (a year 9999, say)
            reason = f"unreadable document ({type(exc).__name__}: {str(exc)[:200]})"
            log.warning("rejected %s: %s", origin, reason, extra={"feed": origin})
            return [{"origin": origin, "error": reason}]
        out = []
        for alert in found:
            try:
                _storable_times(alert)
                decision = self.repeat_of_warning(alert, self.decide(alert))
                record = describe(alert, decision) | {"origin": origin}
            except Exception as exc:  # one alert's bad value never stops the others
                reason = f"unusable alert {alert.source_id[:100]} ({type(exc).__name__}: " \
                    f"{str(exc)[:200]})"
                log.warning("rejected %s: %s", origin, reason, extra={"feed": origin})
                out.append({"origin": origin, "error": reason})
                continue
            if not dry_run:
                record |= self.store(alert, decision, origin)
            out.append(record)
        return out

    def store(self, alert: Alert, decision: Decision, origin: str) -> dict[str, Any]:
        svc = self.service
        with svc.engine.connect() as conn:
            existing = alert_store.find_by_source(conn, alert.source, alert.source_id)
        if existing is not None:
            return {"id": existing.id, "duplicate": True, "status": existing.status}
        try:
            done = svc.lifecycle.submit(alert, operator=f"ingest:{origin}",
                                        action=decision.action.value,
                                        rule=decision.rule_name,
                                        reason=decision.reason
                                        if decision.rule_name in HELD_FOR_TIME else None)
        except sa.exc.IntegrityError:  # another worker stored it first
            with svc.engine.connect() as conn:
                row = alert_store.find_by_source(conn, alert.source, alert.source_id)
            return {"id": row.id if row else None, "duplicate": True}
        if done.status is AlertStatus.HELD and decision.rule_name != "stale":
            from bot.operators import announce

            why = decision.reason if decision.rule_name == "future" else \
                f"rule {decision.rule_name}"
            announce(svc, done.id, f"Held for an operator ({why}, from {origin})")
        log.info("stored %s alert %d (%s, rule %s)", alert.kind.value, done.id, done.action,
                 decision.rule_name, extra={"alert_id": done.id, "feed": origin})
        result: dict[str, Any] = {"id": done.id, "action": done.action,
                                  "status": done.status.value}
        if done.note:
            result["note"] = done.note
        return result


def _storable_times(alert: Alert) -> None:
    """Raise for a time the database cannot hold (in UTC before year 1 or after 9999)."""
    for value in (alert.issued, alert.expires, alert.send_at):
        if value is not None:
            value.astimezone(dt.UTC)


def describe(alert: Alert, decision: Decision) -> dict[str, Any]:
    p = alert.payload
    strongest = p.max_intensity if isinstance(p, Earthquake) else None
    return {
        "source": alert.source,
        "source_id": alert.source_id,
        "kind": alert.kind.value,
        "msg_type": alert.msg_type.value,
        "references": alert.references,
        "severity": alert.severity.name.lower(),
        "urgency": alert.urgency.name.lower(),
        "headline_ja": alert.headline_ja,
        "issued": alert.issued.isoformat(),
        "expires": alert.expires.isoformat() if alert.expires else None,
        "in_jurisdiction": alert.in_jurisdiction,
        "wards": list(alert.wards),
        "max_intensity": strongest.code if strongest is not None else None,
        "test": alert.test,
        "policy": decision.action.value,
        "rule": decision.rule_name,
        "reason": decision.reason,
    }
