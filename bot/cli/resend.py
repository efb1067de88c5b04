"""``bousai alert resend-failed ID``: queue an alert's failed deliveries again."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import typer

from bot.cli.common import echo_json, handle_errors, operator_name, service_context
from bot.db.schema import alerts, deliveries, subscribers, utcnow
from bot.domain import AlertStatus, DeliveryStatus
from bot.errors import OperatorError

# Alert states whose failed deliveries must not go out again.
REFUSED = {
    AlertStatus.CANCELLED.value: "it was cancelled",
    AlertStatus.REJECTED.value: "it was rejected",
    AlertStatus.EXPIRED.value: "it has expired",
    AlertStatus.IGNORED.value: "it was ignored by policy",
}


def _plan_resend(conn: sa.Connection, svc: Any, alert_id: int) -> tuple[list[int], int]:
    """(ids of failed rows to resend, number skipped because their one recipient
    blocked the bot or left)."""
    from bot.fanout import PER_RECIPIENT

    d = deliveries
    resend: list[int] = []
    skipped = 0
    rows = list(conn.execute(sa.select(d.c.id, d.c.channel, d.c.recipients)
                             .where(d.c.alert_id == alert_id,
                                    d.c.status == DeliveryStatus.FAILED.value)
                             .order_by(d.c.id)))
    # Per-recipient channels (Telegram): a row to a subscriber who is no longer
    # active (blocked the bot, /stop, erased) is not sent again.
    single: dict[str, set[str]] = {}
    for r in rows:
        plan = svc.plans.get(r.channel)
        if plan is not None and plan.mode == PER_RECIPIENT and len(r.recipients) == 1:
            single.setdefault(r.channel, set()).add(str(r.recipients[0]))
    active: set[tuple[str, str]] = set()
    for channel, users in single.items():
        ids = sorted(users)
        for i in range(0, len(ids), 5000):
            active.update((channel, u) for (u,) in conn.execute(
                sa.select(subscribers.c.user_id).where(
                    subscribers.c.channel == channel, subscribers.c.active,
                    subscribers.c.user_id.in_(ids[i:i + 5000]))))
    for r in rows:
        if r.channel in single and len(r.recipients) == 1 \
                and (r.channel, str(r.recipients[0])) not in active:
            skipped += 1
        else:
            resend.append(int(r.id))
    return resend, skipped


@handle_errors
def resend_failed(
    alert_id: Annotated[int, typer.Argument(help="the alert's id")],
    operator: Annotated[str | None, typer.Option(
        help="who does this (default BOUSAI_OPERATOR or the OS user)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only say what would be resent")
                       ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Queue an alert's failed deliveries again (attempts start over; the old error is
    kept in the log as "before resend: …" until the new outcome replaces it). Chats of
    subscribers who blocked the bot or left are skipped. `bousai run` then sends them.

    Example: bousai alert resend-failed 12 --operator tanaka
    """
    from bot.store.alerts import audit, get_row, set_status

    who = operator_name(operator)
    with service_context() as svc:
        with svc.engine.begin() as conn:
            row = get_row(conn, alert_id, lock=True)
            if row.status in REFUSED:
                raise OperatorError(f"alert {alert_id} is not resent: {REFUSED[row.status]}")
            follow = conn.execute(sa.select(alerts.c.id, alerts.c.msg_type).where(
                alerts.c.ref_alert_id == alert_id).order_by(alerts.c.id.desc())).first()
            if follow is not None:
                raise OperatorError(
                    f"alert {alert_id} is not resent: alert {follow.id} ({follow.msg_type}) "
                    "replaced it")
            if row.expires is not None and row.expires <= utcnow():
                raise OperatorError(f"alert {alert_id} is not resent: it expired at "
                                    f"{row.expires.isoformat()}")
            ids, skipped = _plan_resend(conn, svc, alert_id)
            if not ids and not skipped:
                raise OperatorError(f"alert {alert_id} has no failed deliveries; nothing to "
                                    "resend")
            if not ids:
                raise OperatorError(
                    f"alert {alert_id}: nothing to resend; all {skipped} failed deliveries "
                    "went to subscribers who blocked the bot or left")
            if not dry_run:
                now = utcnow()
                d = deliveries
                n = 0
                for i in range(0, len(ids), 5000):
                    n += int(conn.execute(
                        sa.update(d).where(d.c.id.in_(ids[i:i + 5000]),
                                           d.c.status == DeliveryStatus.FAILED.value)
                        .values(status=DeliveryStatus.PENDING.value, attempts=0,
                                next_attempt_at=now, claimed_by=None, updated_at=now,
                                last_error=sa.literal("before resend: ")
                                + sa.func.coalesce(d.c.last_error, "")))
                        .rowcount or 0)
                if row.status == AlertStatus.SENT.value:
                    # Open again, so the dispatcher marks it sent when these are done.
                    set_status(conn, alert_id, AlertStatus.QUEUED)
                audit(conn, who, "resend", alert_id=alert_id, deliveries=n, skipped=skipped)
            else:
                n = len(ids)
    count = n
    if as_json:
        echo_json({"alert_id": alert_id, "resent": count, "skipped": skipped,
                   "dry_run": dry_run, "operator": who})
        return
    skip = (f"; {skipped} skipped (subscriber blocked the bot or left)" if skipped else "")
    if dry_run:
        typer.echo(f"alert {alert_id}: would queue {count} failed deliveries again{skip} "
                   "(dry run; nothing changed)")
    else:
        typer.echo(f"alert {alert_id}: {count} failed deliveries queued again{skip}; "
                   "`bousai run` sends them")

