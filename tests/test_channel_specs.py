"""A platform's facts are declared once, on its channel class: configuration,
settings, the plan an operator sees, the channels the service builds and the
pacer all read them there, with the deployment's overrides applied once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import pytest
import sqlalchemy as sa

from bot.config import DEFAULT_CONFIG_PATH, load_config, load_settings
from bot.db import make_engine
from bot.db.schema import renderings
from bot.dispatcher import Dispatcher
from bot.domain import Alert, Kind, Severity, Subscriber, Urgency
from bot.errors import ConfigError
from bot.pacing import Pacer
from bot.runtime import build_channels
from bot.service import channel_plans
from bot.store import subscribers as sub_store
from channels import registry
from channels.base import (
    Channel,
    ChannelEnvironment,
    ChannelSpec,
    FanoutMode,
    LengthUnit,
    Limits,
    OutgoingMessage,
    SendResult,
    positive_number,
    with_rate,
)
from tests.cli_helpers import bousai, json_lines
from tests.config_helpers import write_config
from tests.harness import harness

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, old: str = "", new: str = "", extra: str = "") -> Path:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    if old:
        assert old in text
        text = text.replace(old, new)
    text = text.split("# " + "-" * 72 + " feeds")[0] + extra  # no feeds to reach
    return write_config(tmp_path, text)


# ----------------------------------------------- a configured rate, everywhere


@pytest.mark.parametrize(("old", "new", "rate"), [
    ("messages_per_second = 30", "messages_per_second = 10", 10.0),
    ("messages_per_second = 30", "messages_per_second = 45", 45.0),
    ("paid_broadcast = false", "paid_broadcast = true", 1000.0),
])
def test_a_configured_rate_is_what_the_plan_shows_and_the_pacer_keeps(
        env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        old: str, new: str, rate: float) -> None:
    cfg = _config(tmp_path, old, new)
    monkeypatch.setenv("BOUSAI_CONFIG", str(cfg))
    bousai("db", "upgrade")
    subs = tmp_path / "subs.jsonl"
    subs.write_text("".join(json.dumps({"channel": "telegram", "user_id": str(5000 + i),
                                        "language": "ja", "wards": "43101"}) + "\n"
                            for i in range(90)), encoding="utf-8")
    bousai("subscribers", "import", str(subs))

    # The plan the operator sees before sending (no secrets needed for it).
    out = bousai("alert", "issue", "--kind", "city_notice", "--ward", "43101", "--text-ja",
                 "断水のお知らせ。", "--text-en", "Water outage notice.", "--yes", "--json",
                 "--operator", "sato")
    plan = json_lines(out.stdout)[0]["plan"]["telegram"]
    assert plan["requests_per_second"] == rate
    assert plan["recipients"] == plan["requests"] == 90
    assert plan["seconds_at_limit"] == round(90 / rate, 1)

    # The channel the service sends with, and the dispatcher's pacer for it.
    config = load_config(cfg)
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "1:t"})
    channels = build_channels(config, settings)
    engine = make_engine(env["BOUSAI_DATABASE_URL"])
    try:
        dispatcher = Dispatcher(engine, channels)
        if "paid_broadcast = true" in new:
            # every alert is a paid broadcast (no kinds named): the paid pacer's rate;
            # the free rate stays for what is not paid
            assert plan["paid_broadcast"] == {"messages": 90, "fee_per_message": 0.1,
                                              "unit": "Stars", "cost": 9.0,
                                              "free_seconds_at_limit": 3.0}
            assert channels["telegram"].limits.paid_requests_per_second == rate
            assert channels["telegram"].limits.requests_per_second == 30
            paid_pacer = dispatcher.states["telegram"].paid_pacer
            assert paid_pacer is not None and paid_pacer.limit == rate
        else:
            assert channels["telegram"].limits.requests_per_second == rate
            assert dispatcher.states["telegram"].pacer.limit == rate
            assert "paid_broadcast" not in plan
        assert channel_plans(config) == channel_plans(config, channels)
    finally:
        engine.dispose()
        asyncio.run(channels["telegram"].close())


def _subscribe(engine: sa.Engine, n: int) -> list[str]:
    ids = [str(880000 + i) for i in range(n)]
    with engine.begin() as conn:
        sub_store.import_batch(conn, [Subscriber(channel="telegram", user_id=u, language="ja",
                                                 wards=("43101",)) for u in ids])
    return ids


def _alert(body_ja: str) -> Alert:
    return Alert(source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
                 severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE, wards=("43101",),
                 body_ja=body_ja, issued=dt.datetime.now(dt.UTC))


def test_a_three_part_telegram_message_costs_three_pacer_tokens(db_url: str) -> None:
    with harness(db_url, telegram_rate=20) as h:
        chats = _subscribe(h.engine, 4)
        for other in ("line", "x"):  # this text is longer than an X thread takes
            h.service.plans.pop(other, None)
        alert_id = h.submit(_alert(("熊本市中央区で断水しています。" * 250 + "\n\n") * 3),
                            operator="t", action="auto")
        with h.engine.connect() as conn:
            parts = conn.execute(sa.select(renderings.c.parts).where(
                renderings.c.alert_id == alert_id, renderings.c.language == "ja",
                renderings.c.channel == "telegram")).scalar_one()
        assert len(parts) == 3
        channel = registry.build("telegram", h.settings, h.config.channels["telegram"].options)
        dispatcher = Dispatcher(h.engine, {"telegram": channel}, delivery=h.config.delivery,
                                lease_ttl=2.0, poll_interval=0.05)

        async def run() -> bool:
            try:
                return await dispatcher.run(until_idle=True)
            finally:
                await channel.close()

        assert asyncio.run(run())
        pacer = dispatcher.states["telegram"].pacer
        assert pacer.limit == 20
        assert pacer.charged == 4 * 3 == len(h.telegram.sent)
        assert {m.chat_id for m in h.telegram.sent} == set(chats)
        # Four messages of three requests at 20/s: the last message's turn comes nine
        # request slots after the first's (three slots if a message were charged once).
        times = sorted(m.at for m in h.telegram.sent)
        assert times[-1] - times[0] >= 9 / 20 * 0.9


async def test_the_pacer_gives_a_message_as_many_slots_as_it_has_requests() -> None:
    pacer = Pacer(20, margin=1.0)
    started = time.monotonic()
    await pacer.acquire(3)  # now: slots 0, 1 and 2
    await pacer.acquire(1)  # slot 3
    await pacer.acquire(0)  # a message refused before sending costs nothing
    assert time.monotonic() - started >= 3 / 20 * 0.9
    assert pacer.charged == 4


# ------------------------------------------------- one declaration, read by all


class PigeonChannel(Channel):
    """A platform the service has never heard of: one class and one registry entry."""

    spec: ClassVar[ChannelSpec] = ChannelSpec(
        name="pigeon",
        limits=Limits(text_limit=120, length_unit=LengthUnit.CHARS, recipients_per_request=10,
                      parts_per_request=2, max_parts=4, requests_per_second=2.0),
        fanout=FanoutMode.BATCHED,
        secret_vars=("PIGEON_TOKEN",),
        base_url="https://loft.example",
        base_url_var="PIGEON_API_BASE_URL",
    )

    def __init__(self, token: str, *, base_url: str, limits: Limits | None = None,
                 timeout: float = 10.0) -> None:
        super().__init__(limits=limits)
        self.token, self.base_url, self.timeout = token, base_url, timeout

    @classmethod
    def limits_for(cls, options: Mapping[str, Any]) -> Limits:
        return with_rate(cls.spec.limits, positive_number(options, "requests_per_second"))

    @classmethod
    def from_settings(cls, settings: ChannelEnvironment, options: Mapping[str, Any]) -> Self:
        (token,) = cls.read_secrets(settings)
        return cls(token, base_url=settings.base_url(cls.spec.name),
                   limits=cls.limits_for(options), timeout=cls.timeout_for(options))

    async def _send(self, message: OutgoingMessage) -> SendResult:
        return SendResult(message_ids=("1",))


@pytest.fixture
def pigeon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._CLASSES, "pigeon", (__name__, "PigeonChannel"))


PIGEON = "\n[channels.pigeon]\nenabled = true\nrequests_per_second = 5\ntimeout_seconds = 3\n"


def test_settings_config_runtime_and_plans_read_the_channel_class(
        pigeon: None, tmp_path: Path) -> None:
    settings = load_settings({"PIGEON_TOKEN": "coo", "PIGEON_API_BASE_URL": "http://loft/"})
    assert settings.secret("PIGEON_TOKEN").get() == "coo"
    assert settings.base_url("pigeon") == "http://loft"
    assert load_settings({}).base_url("pigeon") == "https://loft.example"

    loaded = load_config(_config(tmp_path, extra=PIGEON))
    config = dataclasses.replace(loaded, channels={"pigeon": loaded.channels["pigeon"]})
    with pytest.raises(ConfigError, match="PIGEON_TOKEN"):
        load_settings({}).require_channel_secrets(config)
    settings.require_channel_secrets(config)
    with pytest.raises(ConfigError, match=r"channels\.pigeon\.requests_per_second"):
        load_config(_config(tmp_path, extra=PIGEON.replace("= 5", "= -5")))

    [channel] = build_channels(config, settings).values()
    assert isinstance(channel, PigeonChannel)
    assert (channel.token, channel.base_url, channel.timeout) == ("coo", "http://loft", 3.0)
    assert channel.limits == dataclasses.replace(PigeonChannel.spec.limits,
                                                 requests_per_second=5.0)
    plan = channel_plans(config)["pigeon"]
    assert plan.mode is FanoutMode.BATCHED
    assert plan.limits == channel.limits
    # a message of three parts is two requests of up to two parts; five are refused
    msg = OutgoingMessage(recipients=("a",), parts=("1", "2", "3"), idempotency_key="k")
    assert channel.requests_for(msg) == 2
    assert channel.requests_for(dataclasses.replace(msg, parts=tuple("12345"))) == 0


def test_every_platform_reads_its_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, spec in registry.specs().items():
        env = {var: f"{var.lower()}-value" for var in spec.secret_vars}
        env[spec.base_url_var] = f"http://{name}.test"
        settings = load_settings(env)
        assert settings.base_url(name) == f"http://{name}.test"
        assert load_settings({}).base_url(name) == spec.base_url
        channel = registry.build(name, settings, {})
        assert channel.name == name and channel.limits == spec.limits
        if hasattr(channel, "base_url"):
            assert channel.base_url == f"http://{name}.test"
        asyncio.run(channel.close())


@pytest.mark.parametrize(("old", "new", "key"), [
    ("messages_per_second = 30", "messages_per_second = 0",
     "channels.telegram.messages_per_second"),
    ("paid_broadcast = false", 'paid_broadcast = "yes"', "channels.telegram.paid_broadcast"),
    ("posts_per_day = 100", "posts_per_day = 2.5", "channels.x.posts_per_day"),
    ("requests_per_second = 200", "requests_per_second = -1",
     "channels.line.requests_per_second"),
])
def test_a_bad_rate_names_its_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(_config(tmp_path, old, new))
    assert key in str(err.value)


def test_reading_specs_and_plans_imports_no_sdk() -> None:
    code = ("import sys\n"
            "from bot.config import load_config, load_settings\n"
            "from bot.service import channel_plans\n"
            "from channels import registry\n"
            "load_settings({}); registry.specs(); channel_plans(load_config())\n"
            "print([m for m in ('telegram', 'linebot', 'tweepy') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
