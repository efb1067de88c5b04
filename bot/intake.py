"""Intake: documents from feeds, files or URLs become stored alerts under the policy.

The one path for every source: parse (pure), decide (policy), dedupe (the same
document twice creates nothing), store (and, for "auto", accept: render and fan
out in the same transaction). Updates and cancellations ("follow") go out only
when the alert they refer to went out; otherwise they are recorded, not sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.domain import Alert, AlertStatus, Earthquake, MsgType
from bot.errors import IngestError
from bot.ingest import Jurisdiction, detect_and_parse
from bot.policy import Decision, Rule, default_action, evaluate, load_rules
from bot.service import Service
from bot.store import alerts as alert_store

log = logging.getLogger(__name__)

SENT_LIKE = (AlertStatus.QUEUED.value, AlertStatus.SENT.value)


@dataclass
class Intake:
    service: Service
    jurisdiction: Jurisdiction
    rules: list[Rule]
    default: str

    @classmethod
    def for_service(cls, svc: Service) -> Intake:
        return cls(service=svc, jurisdiction=Jurisdiction.from_config(svc.config),
                   rules=load_rules(svc.config), default=default_action(svc.config))

    def parse(self, data: bytes, origin: str) -> list[Alert]:
        return detect_and_parse(data, self.jurisdiction, origin=origin)

    def decide(self, alert: Alert) -> Decision:
        return evaluate(alert, self.rules, self.default)

    def process(self, data: bytes, origin: str, *, dry_run: bool = False
                ) -> list[dict[str, Any]]:
        """Records (one per alert, or one with ``error``) as ``bousai ingest --json`` prints.
        Raises nothing for bad documents: the error is in the record and the log."""
        try:
            found = self.parse(data, origin)
        except IngestError as exc:
            log.warning("rejected %s: %s", origin, exc.reason, extra={"feed": origin})
            return [{"origin": origin, "error": exc.reason}]
        out = []
        for alert in found:
            decision = self.decide(alert)
            record = describe(alert, decision) | {"origin": origin}
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
            action: str = decision.action.value
            note = None
            if action == "follow":
                original = self._original(conn, alert)
                if original is not None and original.status in SENT_LIKE:
                    action = "auto"
                else:
                    action, note = "ignore", "the alert it refers to was never sent"
        try:
            alert_id = svc.submit(alert, operator=f"ingest:{origin}", action=action,
                                  rule=decision.rule_name)
        except sa.exc.IntegrityError:  # another worker stored it first
            with svc.engine.connect() as conn:
                row = alert_store.find_by_source(conn, alert.source, alert.source_id)
            return {"id": row.id if row else None, "duplicate": True}
        if action == "auto" and alert.msg_type is not MsgType.ALERT:
            with svc.engine.begin() as conn:
                original = self._original(conn, alert)
                if original is not None and alert.msg_type is MsgType.CANCEL:
                    alert_store.set_status(conn, original.id, AlertStatus.CANCELLED,
                                           reason=f"cancelled by alert {alert_id}")
        log.info("stored %s alert %d (%s, rule %s)", alert.kind.value, alert_id, action,
                 decision.rule_name, extra={"alert_id": alert_id, "feed": origin})
        result: dict[str, Any] = {"id": alert_id, "action": action}
        if note:
            result["note"] = note
        return result

    def _original(self, conn: sa.Connection, alert: Alert) -> Any:
        return alert_store.find_original(conn, alert.references)


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
    }
