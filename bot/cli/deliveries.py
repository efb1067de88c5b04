"""``bousai deliveries …``: the delivery ledger."""

from __future__ import annotations

import csv
import sys
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from bot.cli.common import echo_json, fail, handle_errors, parse_since, service_context
from bot.db.schema import deliveries

app = typer.Typer(help="The delivery ledger: log, statistics, live progress.",
                  no_args_is_help=True)

FIELDS = ("id", "alert_id", "channel", "recipients", "language", "status", "attempts",
          "provider_message_id", "error", "created_at", "sent_at", "updated_at")


def _record(r: Any) -> dict[str, Any]:
    return {"id": r.id, "alert_id": r.alert_id, "channel": r.channel,
            "recipients": list(r.recipients), "recipient_count": r.recipient_count,
            "language": r.language, "status": r.status, "attempts": r.attempts,
            "provider_message_id": r.provider_message_id, "error": r.last_error,
            "created_at": r.created_at, "sent_at": r.sent_at, "updated_at": r.updated_at}


@app.command("log")
@handle_errors
def log_(
    alert: Annotated[int | None, typer.Option(help="only this alert")] = None,
    status: Annotated[str | None, typer.Option(help="pending, in_flight, sent, failed, "
                                                   "cancelled, expired")] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    since: Annotated[str | None, typer.Option(help="ISO time or 30m/6h/2d")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, jsonl or csv")] = "table",
) -> None:
    """Read the delivery ledger: every send, its outcome and its error.

    Example: bousai deliveries log --alert 12 --status failed --format csv
    """
    if fmt not in ("table", "jsonl", "csv"):
        raise fail("--format must be table, jsonl or csv")
    d = deliveries
    query = sa.select(d).order_by(d.c.id)
    if alert is not None:
        query = query.where(d.c.alert_id == alert)
    if status:
        query = query.where(d.c.status == status)
    if channel:
        query = query.where(d.c.channel == channel)
    since_t = parse_since(since)
    if since_t is not None:
        query = query.where(d.c.updated_at >= since_t)
    writer = csv.writer(sys.stdout) if fmt == "csv" else None
    if writer:
        writer.writerow(FIELDS)
    with service_context() as svc, svc.engine.connect() as conn:
        for r in conn.execution_options(yield_per=2000).execute(query):
            rec = _record(r)
            if fmt == "jsonl":
                echo_json(rec)
            elif writer:
                writer.writerow([" ".join(rec[f]) if f == "recipients" else
                                 (rec[f].isoformat() if hasattr(rec[f], "isoformat")
                                  else rec[f]) for f in FIELDS])
            else:
                who = rec["recipients"][0] if rec["recipient_count"] == 1 else \
                    f"{rec['recipient_count']} users"
                typer.echo(f"{rec['id']:>7} alert {rec['alert_id']:<5} {rec['channel']:<8} "
                           f"{rec['language']:<8} {who:<22} {rec['status']:<10} "
                           f"try {rec['attempts']} {rec['provider_message_id'] or '':<12} "
                           f"{rec['error'] or ''}")
