"""``bousai audit``: who did what, when, to which alert."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from bot.cli.common import echo_json, handle_errors, jst, parse_since, service_context


def _record(r: Any) -> dict[str, Any]:
    return {"id": r.id, "at": r.at, "operator": r.operator, "action": r.action,
            "alert_id": r.alert_id, "details": dict(r.details or {})}


@handle_errors
def audit_command(
    since: Annotated[str | None, typer.Option(
        help="only entries since: ISO time (JST if no zone) or 30m/6h/2d")] = None,
    alert: Annotated[int | None, typer.Option(help="only entries about this alert")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """The audit log, oldest first: every operator action (issue, approve, reject,
    cancel, resend, subscriber erase …) with who, when, the alert and the details.
    Times are shown in JST; --json gives UTC ISO times.

    Example: bousai audit --since 6h --json
    """
    from bot.store.alerts import audit_rows

    with service_context() as svc, svc.engine.connect() as conn:
        rows = audit_rows(conn, since=parse_since(since))
    shown = 0
    for r in rows:
        if alert is not None and r.alert_id != alert:
            continue
        rec = _record(r)
        shown += 1
        if as_json:
            echo_json(rec)
            continue
        when = jst(rec["at"])
        about = f"alert {rec['alert_id']}" if rec["alert_id"] is not None else "-"
        details = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}"
                           for k, v in rec["details"].items() if v not in (None, [], ""))
        typer.echo(f"{when}  {rec['operator']:<12} {rec['action']:<17} {about:<11} {details}")
    if not shown and not as_json:
        typer.echo("no audit entries", err=True)
