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


@app.command("members")
@handle_errors
def members(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """How many people have joined each language's Telegram broadcast channel
    ([channels.tg_channels]), asked of Telegram (getChatMemberCount). A channel
    Telegram cannot find, or will not tell, shows the reason and the others go on.

    Example: bousai channels members --json
    """
    import asyncio

    from bot.cli.common import fail
    from channels.base import ChannelError
    from channels.registry import build
    from channels.tg_channels import TelegramChannelsChannel, channel_link

    with service_context() as svc:
        ch = svc.config.channels.get("tg_channels")
        if ch is None or not ch.enabled:
            raise fail("the Telegram broadcast channels are not enabled "
                       f"([channels.tg_channels] in {svc.config.path})")
        for var in TelegramChannelsChannel.spec.secret_vars:
            if not svc.settings.secret(var):
                raise fail(f"{var} is not set in the environment")
        targets = TelegramChannelsChannel.broadcast_targets(ch.options)
        channel = build("tg_channels", svc.settings, ch.options)
        assert isinstance(channel, TelegramChannelsChannel)

        async def ask() -> list[dict[str, Any]]:
            out = []
            try:
                for lang, chat in targets.items():
                    rec: dict[str, Any] = {"language": lang, "chat": chat,
                                           "link": channel_link(chat), "members": None}
                    try:
                        rec["members"] = await channel.member_count(chat)
                    except ChannelError as exc:
                        rec["error"] = str(exc)
                    out.append(rec)
            finally:
                await channel.close()
            return out

        rows = asyncio.run(ask())
    total = sum(r["members"] or 0 for r in rows)
    for r in rows:
        if as_json:
            echo_json(r)
        else:
            shown = f"{r['members']:>8}" if r["members"] is not None else "       ?"
            typer.echo(f"{r['language']:<8} {shown}  {r['chat']}"
                       + (f"  {r['error']}" if r.get("error") else ""))
    if not as_json:
        typer.echo(f"{'total':<8} {total:>8}  members in {len(rows)} channels")
