"""``bousai alert resend-failed ID``: queue an alert's failed deliveries again."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

from bot.cli.common import echo_json, handle_errors, jst, operator_name, service_context
from bot.db.schema import utcnow
from bot.domain import AlertStatus
from bot.errors import OperatorError
from bot.service import Service
from bot.store import deliveries as ledger
from bot.store import subscribers as subs_store
from bot.store.fanout import PER_RECIPIENT

# Alert states whose failed deliveries must not go out again.
REFUSED = {
    AlertStatus.CANCELLED.value: "it was cancelled",
    AlertStatus.REJECTED.value: "it was rejected",
    AlertStatus.EXPIRED.value: "it has expired",
    AlertStatus.IGNORED.value: "it was ignored by policy",
    AlertStatus.LIFTED.value: "it was lifted",
}


def _plan_resend(conn: sa.Connection, svc: Service, alert_id: int) -> tuple[list[int], int]:
    """(ids of failed rows to resend, number skipped because their one recipient
    blocked the bot or left)."""
    resend: list[int] = []
    skipped = 0
    rows = ledger.failed_rows(conn, alert_id)
    # Per-recipient channels (Telegram): a row to a subscriber who is no longer
    # active (blocked the bot, /stop, erased) is not sent again.
    single: dict[str, set[str]] = {}
    for r in rows:
        plan = svc.plans.get(r.channel)
        if plan is not None and plan.mode == PER_RECIPIENT and len(r.recipients) == 1:
            single.setdefault(r.channel, set()).add(str(r.recipients[0]))
    active = {(channel, u) for channel, users in single.items()
              for u in subs_store.active_among(conn, channel, users)}
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
    from bot.store.alerts import get_row, latest_follow_up

    who = operator_name(operator)
    with service_context() as svc:
        with svc.engine.begin() as conn:
            row = get_row(conn, alert_id, lock=True)
            if row.status in REFUSED:
                raise OperatorError(f"alert {alert_id} is not resent: {REFUSED[row.status]}")
            follow = latest_follow_up(conn, alert_id)
            if follow is not None:
                raise OperatorError(
                    f"alert {alert_id} is not resent: alert {follow.id} ({follow.msg_type}) "
                    "replaced it")
            if row.expires is not None and row.expires <= utcnow():
                raise OperatorError(f"alert {alert_id} is not resent: it expired at "
                                    f"{jst(row.expires)}")
            ids, skipped = _plan_resend(conn, svc, alert_id)
            if not ids and not skipped:
                raise OperatorError(f"alert {alert_id} has no failed deliveries; nothing to "
                                    "resend")
            if not ids:
                raise OperatorError(
                    f"alert {alert_id}: nothing to resend; all {skipped} failed deliveries "
                    "went to subscribers who blocked the bot or left")
            if not dry_run:
                n = svc.lifecycle.resend(conn, alert_id, who, ids, skipped)
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

