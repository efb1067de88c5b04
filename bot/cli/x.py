"""``bousai x …``: what X posting has cost and what is left of its budget."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from bot.cli.common import echo_json, handle_errors, jst, service_context

app = typer.Typer(help="X: posts, their cost and the budget.", no_args_is_help=True)


@app.command("budget")
@handle_errors
def budget(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Posts made on X and what they cost, today and this month (calendar day and
    month in the city's time zone) and in the last 24 hours (X's own cap), with what
    is left of each budget. Counted from the delivery ledger: each part of a thread
    is a post; posts still queued count as spent.

    Example: bousai x budget --json
    """
    from bot import xbudget

    with service_context() as svc:
        with svc.engine.connect() as conn:
            report = xbudget.report(svc.config, xbudget.spent(conn, svc.config))
        enabled = "x" in svc.config.channels and svc.config.channels["x"].enabled
    report["enabled"] = enabled
    if as_json:
        echo_json(report)
        return
    cur = report["currency"]
    price = report["price_per_post"]
    typer.echo(f"x         {'enabled' if enabled else 'disabled'}; languages "
               f"{', '.join(report['languages']) or '-'}; "
               + (f"{price:.3f} {cur} per post, {report['price_per_post_with_url']:.3f} "
                  f"{cur} with a link" if price is not None
                  else "no price_per_post set: cost unknown"))
    for name, label in (("day", "today"), ("month", "month")):
        w = report[name]
        spent = f"{w['posts']} posts" + (f", {w['cost']:.3f} {cur}" if price is not None
                                         else "")
        if w["queued_posts"]:
            spent += f" (+{w['queued_posts']} queued, {w['queued_cost']:.3f} {cur})"
        left = (f"; budget {w['budget']:.3f} {cur}, left {w['left']:.3f} {cur}"
                if w["budget"] is not None else "; no budget set")
        since = jst(dt.datetime.fromisoformat(w["since"]))
        typer.echo(f"{label:<9} {spent}{left}  (since {since})")
    h = report["last_24h"]
    typer.echo(f"24 hours  {h['posts']} posts"
               + (f"; X's cap {h['cap']}, left {h['left']}" if h["cap"] is not None else ""))
