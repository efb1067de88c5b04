"""``bousai web``: the operators' console alone, against the same database as
``bousai run`` (for a console host apart from the senders, or to look without
sending)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from bot.cli.common import handle_errors, service_context

log = logging.getLogger("bot.console")


@handle_errors
def web_command(
    host: Annotated[str | None, typer.Option(help="listen here (default [console] host, "
                                                  "127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="and on this port (default [console] "
                                                  "port, 8081)")] = None,
) -> None:
    """Serve the operators' web console: alerts now, approvals, the ward map, feeds,
    channels, subscribers, /metrics and /readyz. Needs BOUSAI_CONSOLE_SECRET and
    operator accounts (`bousai operators add NAME --role approver`).

    Example: bousai web --port 8081   (until SIGTERM/Ctrl-C; with BOUSAI_CONSOLE_SECRET set)
    """
    import dataclasses

    from bot.console.app import create_console
    from bot.console.settings import ConsoleSettings
    from bot.web import serve
    from bot.webguard import HttpLimits

    with service_context(log_level=logging.INFO) as svc:
        settings = ConsoleSettings.load(svc.config)
        settings = dataclasses.replace(settings, host=host or settings.host,
                                       port=settings.port if port is None else port)
        app = create_console(svc, settings)
        limits = HttpLimits.from_config(svc.config)

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await serve(app, settings.host, settings.port, stop, limits=limits,
                        listening=lambda h, p: log.info("console: listening on "
                                                        "http://%s:%d/", h, p))

        asyncio.run(main())
