"""Housekeeping: rows of expired alerts expire, waiting alerts past their expiry
expire, and alerts with no open row finish as sent, failed or expired."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection

import sqlalchemy as sa

from bot.lifecycle.table import TRANSITIONS, WAITING, Event, S
from bot.store import alerts as alert_store
from bot.store import deliveries as ledger

log = logging.getLogger(__name__)


def housekeeping(engine: sa.Engine) -> None:
    """Rows of expired alerts expire; waiting alerts past their expiry expire; alerts
    with no open row finish as sent, failed (nothing sent) or expired."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        n = ledger.expire_due(conn)
        if n:
            log.warning("%d deliveries expired unsent", n)
        _bulk(conn, alert_store.ids_where(conn, statuses=WAITING, expired_by=now),
              Event.EXPIRE)
        by_event: dict[Event, list[int]] = {}
        for alert_id, rows in ledger.finished(conn, alert_store.due_select(S.QUEUED, now)):
            event = (Event.FINISH if rows.get("sent") or not rows
                     else Event.EXPIRE if rows.get("expired")
                     else Event.FAIL if rows.get("failed") else Event.FINISH)
            by_event.setdefault(event, []).append(alert_id)
        for event, ids in by_event.items():
            _bulk(conn, ids, event)


def _bulk(conn: sa.Connection, ids: Collection[int], event: Event) -> None:
    if not ids:
        return
    allowed, target = TRANSITIONS[event]
    alert_store.set_status_many(conn, ids, [s for s in allowed if s is not None], target)
    if event is not Event.FINISH:
        for alert_id in ids:
            log.warning("alert %d %s", alert_id, target.value, extra={"alert_id": alert_id})
