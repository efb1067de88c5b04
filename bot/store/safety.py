"""Safety checks (安否確認): the checks and reminders written as alerts of source
``safety``, and the answers in ``safety_answers``. The only SQL on answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa

from bot.db.schema import alerts, deliveries, safety_answers, subscribers, utcnow
from bot.domain import AlertStatus, DeliveryStatus, MsgType

SOURCE = "safety"
STATUSES = ("safe", "need_help", "away")
WENT_OUT = (AlertStatus.QUEUED.value, AlertStatus.SENT.value, AlertStatus.LIFTED.value)


def check_source_id(alert_id: int, *, reminder: bool = False) -> str:
    return f"{'reminder' if reminder else 'check'}:{alert_id}"


def candidates(conn: sa.Connection, since: dt.datetime, accepted_before: dt.datetime
               ) -> list[sa.Row[Any]]:
    """Alerts issued since ``since``, stored before ``accepted_before``, that went out
    (and were not lifted or cancelled) and may call for a safety check, without one yet."""
    checked = sa.select(alerts.c.source_id).where(alerts.c.source == SOURCE)
    return list(conn.execute(sa.select(alerts).where(
        alerts.c.msg_type == MsgType.ALERT.value, alerts.c.source != SOURCE,
        alerts.c.status.in_((AlertStatus.QUEUED.value, AlertStatus.SENT.value)),
        alerts.c.in_jurisdiction.is_(True), alerts.c.issued >= since,
        alerts.c.created_at <= accepted_before,
        sa.literal("check:").concat(sa.cast(alerts.c.id, sa.String)).not_in(checked),
    ).order_by(alerts.c.id)))


def find_check(conn: sa.Connection, alert_id: int, *, reminder: bool = False
               ) -> sa.Row[Any] | None:
    return conn.execute(sa.select(alerts).where(
        alerts.c.source == SOURCE,
        alerts.c.source_id == check_source_id(alert_id, reminder=reminder))).first()


def wards_asked(conn: sa.Connection, event: str) -> set[str]:
    """Wards that a check about ``event`` (another report of it) already went to."""
    rows = conn.execute(sa.select(alerts.c.wards).where(
        alerts.c.source == SOURCE, alerts.c.source_id.like("check:%"),
        alerts.c.params["event"].as_string() == event))
    return {w for (wards,) in rows for w in wards}


def due_reminders(conn: sa.Connection, created_before: dt.datetime, since: dt.datetime
                  ) -> list[sa.Row[Any]]:
    """Checks created between ``since`` and ``created_before`` with no reminder yet."""
    reminded = sa.select(alerts.c.source_id).where(alerts.c.source == SOURCE)
    return list(conn.execute(sa.select(alerts).where(
        alerts.c.source == SOURCE, alerts.c.source_id.like("check:%"),
        alerts.c.status.in_(WENT_OUT), alerts.c.created_at <= created_before,
        alerts.c.created_at >= since,
        sa.func.replace(alerts.c.source_id, "check:", "reminder:").not_in(reminded),
    ).order_by(alerts.c.id)))


def answered(conn: sa.Connection, alert_id: int) -> set[tuple[str, str]]:
    """(channel, user id) of everyone who answered the check about ``alert_id``."""
    return {(r.channel, r.user_id) for r in conn.execute(
        sa.select(subscribers.c.channel, subscribers.c.user_id).select_from(
            safety_answers.join(subscribers)).where(safety_answers.c.alert_id == alert_id))}


def record(conn: sa.Connection, alert_id: int, subscriber_id: int, ward: str | None,
           status: str) -> bool:
    """Store or change an answer; True when it is new or different."""
    if status not in STATUSES:
        raise ValueError(f"unknown safety answer {status!r}")
    now = utcnow()
    row = conn.execute(sa.select(safety_answers.c.id, safety_answers.c.status).where(
        safety_answers.c.alert_id == alert_id,
        safety_answers.c.subscriber_id == subscriber_id)).first()
    if row is None:
        try:
            with conn.begin_nested():  # two quick taps: the second one updates
                conn.execute(sa.insert(safety_answers).values(
                    alert_id=alert_id, subscriber_id=subscriber_id, ward=ward,
                    status=status, answered_at=now))
            return True
        except sa.exc.IntegrityError:
            row = conn.execute(sa.select(safety_answers.c.id, safety_answers.c.status).where(
                safety_answers.c.alert_id == alert_id,
                safety_answers.c.subscriber_id == subscriber_id)).first()
            if row is None:  # pragma: no cover - not a duplicate: a real integrity error
                raise
    conn.execute(sa.update(safety_answers).where(safety_answers.c.id == row.id).values(
        status=status, ward=ward, answered_at=now))
    return bool(row.status != status)


def erase_subscriber(conn: sa.Connection, subscriber_id: int) -> None:
    conn.execute(sa.delete(safety_answers).where(
        safety_answers.c.subscriber_id == subscriber_id))


def asked(conn: sa.Connection, alert_id: int) -> int:
    """Recipients the check about ``alert_id`` reached (its sent deliveries)."""
    check = find_check(conn, alert_id)
    if check is None:
        return 0
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(
        deliveries.c.recipient_count), 0)).where(
        deliveries.c.alert_id == check.id,
        deliveries.c.status == DeliveryStatus.SENT.value)).scalar_one())


def counts(conn: sa.Connection, alert_id: int) -> dict[str, Any]:
    """Answers by status, by ward and status, by language and status."""
    j = safety_answers.join(subscribers)
    base = sa.select(safety_answers.c.ward, subscribers.c.language, safety_answers.c.status,
                     sa.func.count()).select_from(j).where(
        safety_answers.c.alert_id == alert_id).group_by(
        safety_answers.c.ward, subscribers.c.language, safety_answers.c.status)
    total: dict[str, int] = dict.fromkeys(STATUSES, 0)
    by_ward: dict[str, dict[str, int]] = {}
    by_language: dict[str, dict[str, int]] = {}
    for ward, language, status, n in conn.execute(base):
        total[status] = total.get(status, 0) + int(n)
        w = by_ward.setdefault(ward or "-", dict.fromkeys(STATUSES, 0))
        w[status] = w.get(status, 0) + int(n)
        lang = by_language.setdefault(language, dict.fromkeys(STATUSES, 0))
        lang[status] = lang.get(status, 0) + int(n)
    return {"answers": total, "by_ward": by_ward, "by_language": by_language}


def answers(conn: sa.Connection, alert_id: int, statuses: Collection[str] | None = None
            ) -> list[Mapping[str, Any]]:
    """Each answer with who gave it (channel, user id, language), oldest first."""
    query = sa.select(safety_answers.c.status, safety_answers.c.ward,
                      safety_answers.c.answered_at, subscribers.c.channel,
                      subscribers.c.user_id, subscribers.c.language).select_from(
        safety_answers.join(subscribers)).where(
        safety_answers.c.alert_id == alert_id).order_by(safety_answers.c.answered_at,
                                                       safety_answers.c.id)
    if statuses:
        query = query.where(safety_answers.c.status.in_(list(statuses)))
    return [dict(r._mapping) for r in conn.execute(query)]
