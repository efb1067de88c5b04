"""``bousai safety``: answers to the safety checks (安否確認) after an alert."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

from bot.cli.common import echo_json, fail, handle_errors, jst, service_context
from bot.store import alerts as alert_store
from bot.store import safety as store

app = typer.Typer(help="Safety checks (安否確認): counts and the list of who needs help.",
                  no_args_is_help=True)
_STATUS = {"need-help": "need_help", "safe": "safe", "away": "away"}


def _check(conn: sa.Connection, alert_id: int) -> None:
    alert_store.get_row(conn, alert_id)
    if store.find_check(conn, alert_id) is None:
        raise fail(f"no safety check was sent for alert {alert_id} (only the alerts that "
                   "[[safety.triggers]] mark call for one, with [safety] enabled = true)")


@app.command("stats")
@handle_errors
def stats(
    alert_id: Annotated[int, typer.Argument(help="the alert the safety check followed")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Answers so far, by ward and by language, and how many were asked.

    Example: bousai safety stats 1
    """
    with service_context() as svc, svc.engine.connect() as conn:
        _check(conn, alert_id)
        counts = store.counts(conn, alert_id)
        asked = store.asked(conn, alert_id)
    answered = sum(counts["answers"].values())
    if as_json:
        echo_json({"alert_id": alert_id, "asked": asked, "answered": answered,
                   "no_answer": max(0, asked - answered), **counts})
        return
    a = counts["answers"]
    typer.echo(f"alert {alert_id}: asked {asked}, answered {answered} (safe {a['safe']}, "
               f"need help {a['need_help']}, not in the area {a['away']}), no answer "
               f"{max(0, asked - answered)}")
    for title, rows in (("ward", counts["by_ward"]), ("language", counts["by_language"])):
        for key, n in sorted(rows.items()):
            typer.echo(f"{title:<9} {key:<8} safe {n['safe']:>5}  need help "
                       f"{n['need_help']:>5}  not in the area {n['away']:>5}")


@app.command("list")
@handle_errors
def list_answers(
    alert_id: Annotated[int, typer.Argument(help="the alert the safety check followed")],
    status: Annotated[str, typer.Option(
        help="need-help, safe, away or all")] = "need-help",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """Who answered (default: who needs help), oldest answer first, with the chat to
    contact them in.

    Example: bousai safety list 1 --status need-help
    """
    if status != "all" and status not in _STATUS:
        raise fail(f"--status {status!r} is not known; use one of: "
                   f"{', '.join(_STATUS)}, all")
    wanted = None if status == "all" else (_STATUS[status],)
    with service_context() as svc, svc.engine.connect() as conn:
        _check(conn, alert_id)
        rows = store.answers(conn, alert_id, wanted)
        config = svc.config
    for r in rows:
        if as_json:
            echo_json({**r, "status": str(r["status"]).replace("_", "-")})
            continue
        ward = config.ward(r["ward"]).name("ja") if r["ward"] else "-"
        typer.echo(f"{jst(r['answered_at'])}  {str(r['status']).replace('_', '-'):<9}  "
                   f"{ward}  {r['language']:<7}  {r['channel']} {r['user_id']}")
    if not rows and not as_json:
        typer.echo(f"no answers with status {status}")
