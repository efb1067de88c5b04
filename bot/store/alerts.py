"""Alerts and the audit log.

``alerts.params`` holds the alert's payload as JSON (:meth:`Payload.to_json`); rows
written before payloads were typed still load (:func:`~bot.domain.payload_from_json`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from bot.db.schema import alerts, audit_log, utcnow
from bot.domain import Alert, AlertStatus, MsgType, payload_from_json
from bot.errors import AlertNotFound
from bot.logs import redact


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):  # the audit log never keeps a secret
        return redact(value)
    return value


def alert_values(alert: Alert) -> dict[str, Any]:
    return {
        "source": alert.source,
        "source_id": alert.source_id,
        "kind": alert.kind.value,
        "msg_type": alert.msg_type.value,
        "references": alert.references,
        "severity": int(alert.severity),
        "urgency": int(alert.urgency),
        "priority": alert.priority,
        "wards": list(alert.wards),
        "areas": list(alert.areas),
        "headline_ja": alert.headline_ja,
        "body_ja": alert.body_ja,
        "texts": dict(alert.texts),
        "params": alert.payload.to_json(),
        "issued": alert.issued,
        "expires": alert.expires,
        "send_at": alert.send_at,
        "status": alert.status.value,
        "test": alert.test,
        "in_jurisdiction": alert.in_jurisdiction,
    }


def row_to_alert(row: sa.Row[Any] | Mapping[str, Any]) -> Alert:
    m = row._mapping if isinstance(row, sa.Row) else row
    return Alert(
        id=m["id"],
        source=m["source"],
        source_id=m["source_id"],
        kind=m["kind"],
        msg_type=m["msg_type"],
        references=m["references"],
        severity=m["severity"],
        urgency=m["urgency"],
        wards=tuple(m["wards"]),
        areas=tuple(m["areas"]),
        headline_ja=m["headline_ja"],
        body_ja=m["body_ja"],
        texts=m["texts"],
        payload=payload_from_json(m["params"], kind=m["kind"], source=m["source"]),
        issued=m["issued"],
        expires=m["expires"],
        send_at=m["send_at"],
        status=m["status"],
        test=m["test"],
        in_jurisdiction=m["in_jurisdiction"],
    )


def insert_alert(conn: sa.Connection, alert: Alert, **extra: Any) -> int:
    values = alert_values(alert) | extra
    now = utcnow()
    values.setdefault("created_at", now)
    values["updated_at"] = now
    result = conn.execute(sa.insert(alerts).values(**values).returning(alerts.c.id))
    return int(result.scalar_one())


def find_by_source(conn: sa.Connection, source: str, source_id: str) -> sa.Row[Any] | None:
    return conn.execute(
        sa.select(alerts).where(alerts.c.source == source, alerts.c.source_id == source_id)
    ).first()


# An original in one of these states reached (or is reaching) its recipients.
WENT_OUT = (AlertStatus.QUEUED.value, AlertStatus.SENT.value, AlertStatus.LIFTED.value)


def find_original(conn: sa.Connection, references: str | None) -> sa.Row[Any] | None:
    """The original alert (not an update, lift or cancel) that ``references`` names,
    by its source id or its event key (JMA: the same EventID and report kind): the
    newest that went out, else the newest. A series such as a prefecture's weather
    warnings repeats its event key in every report, and a report that policy ignored
    (nothing new for the city) must not hide the one residents received."""
    if not references:
        return None
    went_out = sa.case((alerts.c.status.in_(WENT_OUT), 0), else_=1)
    return conn.execute(sa.select(alerts).where(
        alerts.c.msg_type == MsgType.ALERT.value,
        sa.or_(alerts.c.source_id == references,
               alerts.c.params["event_key"].as_string() == references),
    ).order_by(went_out, alerts.c.id.desc()).limit(1)).first()


def get_row(conn: sa.Connection, alert_id: int, *, lock: bool = False) -> sa.Row[Any]:
    if not 0 < alert_id < 2**31:  # ids are 32-bit on every database
        raise AlertNotFound(alert_id)
    query = sa.select(alerts).where(alerts.c.id == alert_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    elif lock and conn.dialect.name == "sqlite":
        # SQLite has no row lock: a write takes the database's write lock now (as
        # BEGIN IMMEDIATE would), so the state read next cannot change under us.
        conn.execute(sa.update(alerts).where(alerts.c.id == alert_id)
                     .values(status=alerts.c.status))
    row = conn.execute(query).first()
    if row is None:
        raise AlertNotFound(alert_id)
    return row


def get_alert(conn: sa.Connection, alert_id: int) -> Alert:
    return row_to_alert(get_row(conn, alert_id))


def set_status(
    conn: sa.Connection, alert_id: int, status: AlertStatus, *, reason: str | None = None,
    **extra: Any,
) -> None:
    values: dict[str, Any] = {"status": status.value, "updated_at": utcnow(), **extra}
    if reason is not None:
        values["status_reason"] = reason
    conn.execute(sa.update(alerts).where(alerts.c.id == alert_id).values(**values))


def list_rows(
    conn: sa.Connection, *, status: Sequence[str] | None = None, since: dt.datetime | None = None,
    limit: int = 200,
) -> list[sa.Row[Any]]:
    query = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if status:
        query = query.where(alerts.c.status.in_(list(status)))
    if since is not None:
        query = query.where(alerts.c.created_at >= since)
    return list(conn.execute(query))


def audit(
    conn: sa.Connection, operator: str, action: str, *, alert_id: int | None = None,
    **details: Any,
) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            at=utcnow(), operator=operator, action=action, alert_id=alert_id,
            details=_jsonable(details),
        )
    )


def audit_rows(conn: sa.Connection, *, since: dt.datetime | None = None) -> list[sa.Row[Any]]:
    query = sa.select(audit_log).order_by(audit_log.c.id)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    return list(conn.execute(query))


def set_status_many(conn: sa.Connection, ids: Collection[int], from_states: Collection[str],
                    status: AlertStatus) -> int:
    """Move the alerts ``ids`` that are still in one of ``from_states`` to ``status``."""
    return int(conn.execute(sa.update(alerts).where(
        alerts.c.id.in_(list(ids)), alerts.c.status.in_([str(s) for s in from_states])).values(
        status=status.value, updated_at=utcnow())).rowcount or 0)


def ids_where(conn: sa.Connection, *, statuses: Collection[str], expired_by: dt.datetime
              ) -> list[int]:
    """Alerts in ``statuses`` whose expiry has passed by ``expired_by``."""
    return [int(i) for (i,) in conn.execute(sa.select(alerts.c.id).where(
        alerts.c.status.in_([str(s) for s in statuses]), alerts.c.expires.is_not(None),
        alerts.c.expires <= expired_by))]


def due_select(status: AlertStatus, now: dt.datetime) -> sa.Select[tuple[int]]:
    """Alerts in ``status`` whose send time (if any) has come."""
    return sa.select(alerts.c.id).where(
        alerts.c.status == status.value,
        sa.or_(alerts.c.send_at.is_(None), alerts.c.send_at <= now))


def latest_follow_up(conn: sa.Connection, alert_id: int) -> sa.Row[Any] | None:
    return conn.execute(sa.select(alerts).where(
        alerts.c.ref_alert_id == alert_id).order_by(alerts.c.id.desc())).first()


def same_event(conn: sa.Connection, event_key: str) -> list[sa.Row[Any]]:
    """Alerts and follow-ups stored for ``event_key``, newest issue first."""
    return list(conn.execute(sa.select(alerts.c.id, alerts.c.issued, alerts.c.status,
                                       alerts.c.msg_type).where(
        alerts.c.params["event_key"].as_string() == event_key,
    ).order_by(alerts.c.issued.desc(), alerts.c.id.desc())))
