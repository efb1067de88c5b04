"""Build a service wired to the three fake platforms, for delivery tests."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.config import ChannelSettings, Config, DeliverySettings, Secret, Settings, load_config
from bot.db import make_engine, upgrade
from bot.dispatcher import Dispatcher
from bot.domain import Alert, Subscriber
from bot.fakes.line import FakeLine
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX
from bot.render import load_renderer
from bot.runtime import build_channels
from bot.service import Service, channel_plans
from bot.store import subscribers as sub_store

TG_TOKEN = "555:harness-token"
LINE_TOKEN = "harness-line-token"
X_KEYS = {"api_key": "hk", "api_secret": "hs", "access_token": "1-ha", "access_token_secret": "hts"}


@dataclass
class Harness:
    service: Service
    telegram: FakeTelegram
    line: FakeLine
    x: FakeX
    config: Config
    settings: Settings

    @property
    def engine(self) -> sa.Engine:
        return self.service.engine

    def submit(self, alert: Alert, **kw: Any) -> int:
        """Submit through the lifecycle; the new alert's id."""
        return self.service.lifecycle.submit(alert, **kw).id

    def seed(self, n: int, *, channels: tuple[str, ...] = ("telegram", "line"),
             wards: tuple[str, ...] | None = None) -> dict[str, list[Subscriber]]:
        langs = self.config.languages
        ward_codes = wards or self.config.ward_codes
        out: dict[str, list[Subscriber]] = {c: [] for c in channels}
        counter = itertools.count(1)
        for i in range(n):
            channel = channels[i % len(channels)]
            k = next(counter)
            uid = str(700000 + k) if channel == "telegram" else f"U{k:032x}"
            out[channel].append(Subscriber(channel=channel, user_id=uid,
                                           language=langs[i % len(langs)],
                                           wards=(ward_codes[i % len(ward_codes)],)))
        with self.engine.begin() as conn:
            sub_store.import_batch(conn, [s for v in out.values() for s in v])
        return out

    def dispatcher(self, **kw: Any) -> Dispatcher:
        channels = build_channels(self.config, self.settings)
        kw.setdefault("lease_ttl", 2.0)
        kw.setdefault("poll_interval", 0.05)
        return Dispatcher(self.engine, channels, delivery=self.config.delivery, **kw)

    def run_until_idle(self, dispatcher: Dispatcher | None = None, **kw: Any) -> bool:
        """Run ``dispatcher`` (a new one built with ``kw`` if none) until no due work
        is left, then close its channels."""
        if dispatcher is None:
            dispatcher = self.dispatcher(**kw)

        async def go() -> bool:
            try:
                return await dispatcher.run(until_idle=True)
            finally:
                for st in dispatcher.states.values():
                    await st.channel.close()

        return asyncio.run(go())


def harness_config(*, telegram_rate: float = 2000, x_languages: tuple[str, ...] = ("ja", "en"),
                   backoff: float = 0.05, max_attempts: int = 12,
                   chat_interval: float = 0.01,
                   x_options: dict[str, Any] | None = None,
                   tg_channels: dict[str, Any] | None = None,
                   telegram_options: dict[str, Any] | None = None) -> Config:
    config = load_config()
    channels = {
        "telegram": ChannelSettings(name="telegram", enabled=True,
                                    options={"messages_per_second": telegram_rate,
                                             "chat_interval_seconds": chat_interval,
                                             **(telegram_options or {})}),
        "line": ChannelSettings(name="line", enabled=True, options={}),
        "x": ChannelSettings(name="x", enabled=True, options={"languages": list(x_languages),
                                                             **(x_options or {})}),
    }
    if tg_channels is not None:  # the broadcast channels, e.g. {"chats": {...}}
        channels["tg_channels"] = ChannelSettings(
            name="tg_channels", enabled=True,
            options={"chat_interval_seconds": chat_interval, **tg_channels})
    return dataclasses.replace(
        config, channels=channels,
        delivery=DeliverySettings(max_attempts=max_attempts, backoff_base_seconds=backoff,
                                  backoff_max_seconds=1.0))


def harness_settings(db_url: str, tg: FakeTelegram, line: FakeLine, x: FakeX) -> Settings:
    secrets = {"TELEGRAM_BOT_TOKEN": Secret(TG_TOKEN),
               "LINE_CHANNEL_ACCESS_TOKEN": Secret(LINE_TOKEN),
               "LINE_CHANNEL_SECRET": Secret("harness-secret"),
               "X_API_KEY": Secret(X_KEYS["api_key"]),
               "X_API_SECRET": Secret(X_KEYS["api_secret"]),
               "X_ACCESS_TOKEN": Secret(X_KEYS["access_token"]),
               "X_ACCESS_TOKEN_SECRET": Secret(X_KEYS["access_token_secret"])}
    return Settings(database_url=db_url, secrets=secrets,
                    base_urls={"telegram": tg.url, "tg_channels": tg.url,
                               "line": line.url, "x": x.url},
                    http_host="127.0.0.1", http_port=0, log_format="text")


@contextmanager
def harness(db_url: str, *, telegram: dict[str, Any] | None = None,
            line: dict[str, Any] | None = None, x: dict[str, Any] | None = None,
            **config_kw: Any) -> Iterator[Harness]:
    with ExitStack() as stack:
        tg = stack.enter_context(FakeTelegram(token=TG_TOKEN, **(telegram or {})))
        ln = stack.enter_context(FakeLine(token=LINE_TOKEN, **(line or {})))
        fx = stack.enter_context(FakeX(**X_KEYS, **(x or {})))
        config = harness_config(**config_kw)
        settings = harness_settings(db_url, tg, ln, fx)
        engine = make_engine(db_url)
        upgrade(engine)
        stack.callback(engine.dispose)
        svc = Service(config=config, settings=settings, engine=engine,
                      renderer=load_renderer(config), plans=channel_plans(config))
        yield Harness(service=svc, telegram=tg, line=ln, x=fx, config=config,
                      settings=settings)
