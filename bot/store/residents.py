"""What residents ask the chat about: the alerts in force for their wards, and which
shelters are open. Reads only; the answers are built in :mod:`bot.signup`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.db.schema import alerts, renderings
from bot.domain import (
    Alert,
    AlertStatus,
    Kind,
    MsgType,
    Shelter,
    ShelterAction,
    payload_from_json,
)
from bot.errors import ValidationError
from bot.freshness import Freshness
from bot.store.alerts import row_to_alert

# Sources whose alerts are not notices in their own right (the safety check).
NOT_NOTICES = ("safety",)
STANDING = (AlertStatus.QUEUED.value, AlertStatus.SENT.value)


@dataclass(frozen=True, kw_only=True, slots=True)
class InForce:
    """An alert in force and the one to show for it: its newest correction, if any."""

    alert: Alert
    shown_id: int  # the alert or its newest accepted update
    updated: bool


def alerts_in_force(conn: sa.Connection, wards: Collection[str], freshness: Freshness,
                    now: dt.datetime, *, test: bool = False, limit: int = 4) -> list[InForce]:
    """Alerts that went out and still hold at ``now`` for any of ``wards`` (or the whole
    city), newest first. Lifted and cancelled alerts are no longer in force: they are
    left out. A correction (update) replaces what is shown for its original."""
    oldest = now - max(freshness.max_age.values(), default=dt.timedelta(days=1))
    query = sa.select(alerts).where(
        alerts.c.msg_type == MsgType.ALERT.value, alerts.c.status.in_(STANDING),
        alerts.c.in_jurisdiction.is_(True), alerts.c.source.not_in(NOT_NOTICES),
        alerts.c.issued >= oldest, alerts.c.issued <= now,
    ).order_by(alerts.c.issued.desc(), alerts.c.id.desc()).limit(200)
    if not test:
        query = query.where(alerts.c.test.is_(False))
    wanted = set(wards)
    out: list[InForce] = []
    for row in conn.execute(query):
        alert = row_to_alert(row)
        if freshness.stale_reason(alert, now) is not None:
            continue
        if alert.wards and wanted and not wanted & set(alert.wards):
            continue
        update = conn.execute(sa.select(alerts.c.id).where(
            alerts.c.ref_alert_id == row.id, alerts.c.msg_type == MsgType.UPDATE.value,
            alerts.c.status.in_(STANDING)).order_by(alerts.c.id.desc()).limit(1)).scalar()
        out.append(InForce(alert=alert, shown_id=int(update or row.id),
                           updated=update is not None))
        if len(out) >= limit:
            break
    return out


def rendered_parts(conn: sa.Connection, alert_id: int, language: str, channel: str
                   ) -> tuple[str, ...]:
    """The parts the ledger sends for this alert, language and channel (empty if none)."""
    parts = conn.execute(sa.select(renderings.c.parts).where(
        renderings.c.alert_id == alert_id, renderings.c.language == language,
        renderings.c.channel == channel)).scalar()
    return tuple(parts or ())


def shelter_states(conn: sa.Connection, shelter_ids: Iterable[str]) -> dict[str, bool]:
    """Shelter id → True (open) or False (closed), from the city's shelter alerts
    (``bousai alert issue --kind shelter --action opened|closed``): the newest alert
    that went out about a shelter decides. An opening that was lifted (the shelter
    closed: ``bousai alert lift``) means closed; a cancelled alert (sent in error)
    says nothing. Shelters no alert named are absent: not announced."""
    wanted = {str(s) for s in shelter_ids}
    rows = conn.execute(sa.select(alerts.c.id, alerts.c.status, alerts.c.params).where(
        alerts.c.kind == Kind.SHELTER.value, alerts.c.msg_type == MsgType.ALERT.value,
        alerts.c.status.in_((*STANDING, AlertStatus.LIFTED.value)),
        alerts.c.test.is_(False),
    ).order_by(alerts.c.issued.desc(), alerts.c.id.desc()).limit(2000))
    out: dict[str, bool] = {}
    for row in rows:
        payload = _shelter_payload(row.params)
        if payload is None:
            continue
        for sid in payload.shelter_ids:
            sid = sid.strip()
            key = sid if sid in wanted else sid.zfill(8) if sid.isdigit() else sid
            if key not in wanted or key in out:
                continue
            opened = payload.action == ShelterAction.OPENED
            if row.status == AlertStatus.LIFTED.value:
                if opened:
                    out[key] = False  # the opening ended
                continue  # a lifted closing says nothing new
            out[key] = opened
    return out


def _shelter_payload(params: Any) -> Shelter | None:
    try:
        payload = payload_from_json(params, kind=Kind.SHELTER.value, source="")
    except ValidationError:
        return None
    return payload if isinstance(payload, Shelter) else None  # free text: no ids
