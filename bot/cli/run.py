"""``bousai run``: the long-running service."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from bot.cli.common import fail, handle_errors, service_context

log = logging.getLogger("bot.run")


@handle_errors
def run_command(
    until_idle: Annotated[bool, typer.Option(
        "--until-idle", help="do all due work, then exit (0 if every channel is healthy)")
    ] = False,
) -> None:
    """Run the service: dispatcher, feed polling, chat sign-up.

    Example: bousai run --until-idle
    """
    from bot.runtime import build_channels

    with service_context() as svc:
        svc.settings.require_channel_secrets(svc.config)
        channels = build_channels(svc.config, svc.settings)
        ok = asyncio.run(_run(svc, channels, until_idle))
    if not ok:
        raise fail("a channel stopped on a fatal error; see the log", code=2)


async def _run(svc: object, channels: dict[str, object], until_idle: bool) -> bool:
    from bot.dispatcher import Dispatcher
    from bot.service import Service

    assert isinstance(svc, Service)
    dispatcher = Dispatcher(svc.engine, channels,  # type: ignore[arg-type]
                            delivery=svc.config.delivery)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, dispatcher.stop)
    log.info("running with channels: %s", ", ".join(channels) or "none")
    try:
        return await dispatcher.run(until_idle=until_idle)
    finally:
        for ch in channels.values():
            await ch.close()  # type: ignore[attr-defined]
