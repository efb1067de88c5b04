"""``bousai run``: the long-running service."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import fail, handle_errors, service_context

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher
    from bot.push.settings import DmdataSettings
    from bot.scheduler import FeedScheduler
    from bot.service import Service
    from channels.base import Channel

log = logging.getLogger("bot.run")


@handle_errors
def run_command(
    until_idle: Annotated[bool, typer.Option(
        "--until-idle", help="do all due work, then exit (0 if every channel is healthy)")
    ] = False,
    poll_feeds: Annotated[bool | None, typer.Option(
        "--poll-feeds/--no-poll-feeds",
        help="poll the configured feeds (default: on for the service, off with --until-idle)")
    ] = None,
) -> None:
    """Run the service: dispatcher, feed polling, chat sign-up.

    Example: bousai run            (until SIGTERM/Ctrl-C)
             bousai run --until-idle   (send what is due, then exit)
    """
    from bot.runtime import build_channels

    with service_context(log_level=logging.INFO) as svc:
        svc.settings.require_channel_secrets(svc.config)
        channels = build_channels(svc.config, svc.settings)
        feeds = not until_idle if poll_feeds is None else poll_feeds
        from bot.push.settings import load_dmdata

        push = load_dmdata(svc.config) if feeds and not until_idle else None
        ok = asyncio.run(_run(svc, channels, until_idle, feeds, push))
    if isinstance(ok, str):
        raise fail(ok, code=3)
    if not ok:
        raise fail("a channel stopped on a fatal error; see the log", code=2)


async def _run(svc: Service, channels: dict[str, Channel], until_idle: bool,
               poll_feeds: bool, push: DmdataSettings | None = None) -> bool | str:
    """The dispatcher, and unless ``until_idle``: feed scheduler, the push source
    (``push``), web server (webhooks, /healthz, /readyz) and Telegram sign-up polling,
    all on one loop. Returns whether every channel stayed healthy, or why the service
    gave up (the database stayed away too long)."""
    dispatcher = await _dispatch(svc, channels, until_idle, poll_feeds, push)
    return dispatcher.gave_up or dispatcher.ok


async def _dispatch(svc: Service, channels: dict[str, Channel], until_idle: bool,
                    poll_feeds: bool, push: DmdataSettings | None) -> Dispatcher:
    from bot.dispatcher import Dispatcher

    dispatcher = Dispatcher(svc.engine, channels, delivery=svc.config.delivery,
                            poll_interval=svc.config.delivery.poll_interval_seconds)
    svc.readiness.register("database", dispatcher.db.check)
    for name, st in dispatcher.states.items():  # 503 while a channel is paused or stopped
        svc.readiness.register(f"channel:{name}", st.health.check)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stop.set()
        dispatcher.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    scheduler = None
    if poll_feeds:
        scheduler = _start_feeds(svc, lambda: loop.call_soon_threadsafe(dispatcher.wake))
    log.info("running with channels: %s; feeds %s; push %s", ", ".join(channels) or "none",
             "on" if scheduler else "off", push.name if push else "off")
    line_signup = None
    from bot.safety.checks import SafetyChecks, run_checks

    try:
        if until_idle:
            if scheduler is not None:
                await asyncio.to_thread(scheduler.poll_all_once)
            await asyncio.to_thread(SafetyChecks(svc).tick)
            dispatcher.ok = await dispatcher.run(until_idle=True)
            return dispatcher
        from bot.dispatcher import worker_name
        from bot.leases import run_while_leased
        from bot.wakeup import WakeListener
        from bot.web import create_app, serve
        from bot.webguard import HttpLimits

        # other processes (the CLI, ingest) wake the dispatcher when they commit
        wakeup = WakeListener(svc.engine, dispatcher.wake)
        tasks: list[Any] = [wakeup.run(stop), run_while_leased(
            svc.engine, "safety-checks", worker_name(), 6.0,
            lambda inner: run_checks(svc, inner, dispatcher.wake), stop)]
        if push is not None:
            tasks.append(await _start_push(svc, push, channels, dispatcher.wake, stop))
        tg_signup = None
        if "telegram" in channels:
            from bot.signup.telegram import TelegramSignup

            tg_signup = TelegramSignup.from_service(svc)

            async def poll_updates(inner: asyncio.Event) -> None:
                # One poller per bot token across all workers (getUpdates allows one).
                await TelegramSignup.from_service(svc).run(inner)

            if tg_signup.webhook_url:
                tasks.append(tg_signup.run(stop))
            else:
                tasks.append(run_while_leased(svc.engine, "signup:telegram", worker_name(),
                                              6.0, poll_updates, stop))
        if "line" in channels:
            from bot.signup.line import LineSignup

            line_signup = LineSignup.from_service(svc)
            tasks.append(line_signup.setup_menus())  # rich menus; logged if they fail
        limits = HttpLimits.from_config(svc.config)
        app = create_app(svc, telegram_handler=tg_signup, line_handler=line_signup,
                         limits=limits, wake_handler=wakeup)
        tasks.append(serve(app, svc.settings.http_host, svc.settings.http_port, stop,
                           limits=limits, listening=wakeup.serving))
        tasks.extend(_console(svc, stop, limits))
        side = asyncio.gather(*tasks)
        try:
            dispatcher.ok = await dispatcher.run()
        finally:
            stop.set()
            await side
        return dispatcher
    finally:
        if line_signup is not None:
            await line_signup.close()
        if scheduler is not None:
            await asyncio.to_thread(scheduler.shutdown)
        for ch in channels.values():
            await ch.close()


def _console(svc: Service, stop: asyncio.Event, limits: Any) -> list[Any]:
    """The operators' console on its own listener (``[console]``), or nothing when it
    is off or has no cookie key (one warning says how to turn it on)."""
    from bot.console.settings import MIN_SECRET, SECRET_VAR, ConsoleSettings

    settings = ConsoleSettings.load(svc.config)
    if not settings.enabled:
        return []
    if len(settings.secret) < MIN_SECRET:
        log.warning("console: off; set %s (at least %d random characters) to serve it on "
                    "%s:%d", SECRET_VAR, MIN_SECRET, settings.host, settings.port)
        return []
    from bot.console.app import create_console
    from bot.web import serve

    return [serve(create_console(svc, settings), settings.host, settings.port, stop,
                  limits=limits, listening=lambda h, p: log.info(
                      "console: listening on http://%s:%d/", h, p))]


def _start_feeds(svc: Service, wake: Callable[[], object]) -> FeedScheduler | None:
    from bot.feeds import Poller, load_feeds, readiness_check
    from bot.intake import Intake
    from bot.scheduler import FeedScheduler

    feeds = load_feeds(svc.config)
    if not feeds:
        return None
    poller = Poller(Intake.for_service(svc), feeds, on_accept=wake)
    svc.readiness.register("feeds", readiness_check(svc.engine, [f.name for f in feeds],
                                                    poller=poller))
    scheduler = FeedScheduler(poller, feeds)
    scheduler.start()
    return scheduler


async def _start_push(svc: Service, settings: DmdataSettings, channels: dict[str, Channel],
                      wake: Callable[[], object], stop: asyncio.Event) -> Any:
    """The DMDATA push source as a task on the service's loop; ``/readyz`` counts it.
    The channels are opened first, so that an early warning's first send does not
    wait for a client to be built."""
    from bot.intake import Intake
    from bot.push.dmdata import DmdataSource

    source = DmdataSource(Intake.for_service(svc), settings, on_accept=wake)
    svc.readiness.register(settings.name, source.readiness)
    await source.open_channels(channels.values())
    return source.run(stop)
