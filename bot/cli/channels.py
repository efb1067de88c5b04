"""``bousai channels …``"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.cli.common import echo_json, handle_errors, jst, service_context

app = typer.Typer(help="Channels: whether each is sending, paused or stopped.",
                  no_args_is_help=True)


@app.command("status")
@handle_errors
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each enabled channel: sending, paused (the platform cannot be reached; its
    deliveries wait and lose nothing) or stopped (an operator must act), since when,
    the worker holding it, and its queue.

    Example: bousai channels status --json
    """
    from bot.store import channels as store

    with service_context() as svc:
        enabled = [name for name, ch in svc.config.channels.items() if ch.enabled]
        with svc.engine.connect() as conn:
            states, holders, queues = store.states(conn), store.holders(conn), \
                store.queues(conn)
    for name in enabled:
        st = states.get(name, {})
        q = queues.get(name, {"pending": 0, "in_flight": 0, "unknown_outcome": 0})
        holder = holders.get(name)
        state = st.get("state", "idle") if holder else "no worker"
        rec: dict[str, Any] = {"name": name, "state": state,
                               "since": st.get("since") if holder else None,
                               "detail": st.get("detail") if holder else None,
                               "worker": holder, **q}
        if as_json:
            echo_json(rec)
            continue
        line = (f"{name:<9} {state:<9} pending {q['pending']:>6}  in flight "
                f"{q['in_flight']:>4}  outcome unknown {q['unknown_outcome']:>4}")
        if holder:
            line += f"  worker {holder}"
        if state not in ("sending", "idle") and holder:
            line += f"\n          since {jst(rec['since'])}: {rec['detail'] or ''}"
        elif not holder and q["pending"]:
            line += "\n          no worker holds this channel: is `bousai run` running?"
        typer.echo(line)
