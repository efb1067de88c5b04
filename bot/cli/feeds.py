"""``bousai feeds …``"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.cli.common import echo_json, handle_errors, jst, parse_time, service_context

app = typer.Typer(help="Feeds: status, poll now.", no_args_is_help=True)


@app.command("status")
@handle_errors
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each feed's last success, last error and documents seen.

    Example: bousai feeds status --json
    """
    from bot.feeds import feed_status, load_feeds
    from bot.push.settings import load_dmdata

    with service_context() as svc:
        configured = {f.name: f for f in load_feeds(svc.config)}
        push = load_dmdata(svc.config, require_key=False)
        rows = {r["name"]: r for r in feed_status(svc.engine)}
    for name, feed in configured.items():
        r = rows.get(name, {})
        rec = {"name": name, "kind": feed.kind, "url": feed.url,
               "last_success_at": r.get("last_success_at"),
               "last_error_at": r.get("last_error_at"), "last_error": r.get("last_error"),
               "consecutive_failures": r.get("consecutive_failures", 0),
               "documents_seen": r.get("documents_seen", 0),
               "rejected": r.get("rejected", 0), "last_rejected": r.get("last_rejected"),
               "next_poll_at": r.get("next_poll_at")}
        if as_json:
            echo_json(rec)
        else:
            if rec["consecutive_failures"]:
                health = f"FAILING x{rec['consecutive_failures']}: {rec['last_error']}"
            elif rec["last_success_at"] is None:
                health = "not polled yet"
            else:
                health = "ok"
            if rec["rejected"]:
                health += f"  REJECTED {rec['rejected']} (last {rec['last_rejected']})"
            typer.echo(f"{name:<18} {feed.kind:<4} seen {rec['documents_seen']:>5}  "
                       f"last ok {jst(rec['last_success_at'], 'never')}  {health}")
    if push is not None:
        _push_status(push.name, push.base_url, rows.get(push.name, {}), as_json)


def _push_status(name: str, url: str, r: dict[str, Any], as_json: bool) -> None:
    """The push source: connected since (none while disconnected or not running),
    last message, reconnects and the last error."""
    rec = {"name": name, "kind": "push", "url": url,
           "connected_since": r.get("connected_since"),
           "last_message_at": r.get("last_success_at"),
           "reconnects": r.get("reconnects") or 0,
           "last_error_at": r.get("last_error_at"), "last_error": r.get("last_error"),
           "documents_seen": r.get("documents_seen", 0)}
    if as_json:
        echo_json(rec)
        return
    state = (f"connected since {jst(rec['connected_since'])}" if rec["connected_since"]
             else "not connected")
    error = f"  last error {jst(rec['last_error_at'])}: {rec['last_error']}" \
        if rec["last_error"] else ""
    typer.echo(f"{name:<18} push seen {rec['documents_seen']:>5}  {state}  last message "
               f"{jst(rec['last_message_at'], 'never')}  reconnects {rec['reconnects']}{error}")


@app.command("poll")
@handle_errors
def poll(name: Annotated[list[str] | None, typer.Argument(help="feed names; default all")
                         ] = None,
         as_of: Annotated[str | None, typer.Option(
             "--as-of", help="judge freshness as if it were this time (ISO; drills, replays)")
         ] = None) -> None:
    """Poll feeds once now (documents are stored and sent as the scheduler would).

    Example: bousai feeds poll jma-eqvol
    """
    from bot.feeds import Poller, load_feeds
    from bot.intake import Intake

    with service_context() as svc:
        feeds = load_feeds(svc.config)
        poller = Poller(Intake.for_service(svc, as_of=parse_time(as_of, "--as-of")), feeds)
        try:
            for feed in feeds:
                if not name or feed.name in name:
                    n = poller.poll(feed.name, force=True)
                    typer.echo(f"{feed.name}: {n} new document(s)")
        finally:
            poller.close()
