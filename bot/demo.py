"""``bousai demo``: the whole job, locally, through the real channel code.

Starts the fake Telegram, LINE and X servers on 127.0.0.1, creates a throwaway
SQLite database, seeds subscribers across languages and wards, ingests a real
JMA earthquake report that concerns 熊本, has an operator approve it (the policy
holds a report of intensity 1), sends it with live progress, then shows a few
renderings side by side and the delivery summary. Leaves nothing running.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import tempfile
import time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from bot.config import ChannelSettings, Config, Secret, Settings, load_config
from bot.db import make_engine, upgrade
from bot.domain import Subscriber
from bot.service import Service

DEMO_DOCUMENT = Path(__file__).resolve().parent / "data" / "demo" / \
    "32-35_04_04_240613_VXSE53.xml"
# Credentials of the local fake servers only.
TELEGRAM_TOKEN = "700000:DEMO-token"  # noqa: S105
LINE_TOKEN = "demo-line-token"  # noqa: S105
X_KEYS = ("demo-consumer-key", "demo-consumer-secret", "1-demo-access", "demo-access-secret")


def _config() -> Config:
    config = load_config()
    channels = {name: ChannelSettings(name=name, enabled=True,
                                      options=dict(config.channels[name].options)
                                      if name in config.channels else {})
                for name in ("telegram", "line", "x")}
    x_opts = dict(channels["x"].options)
    x_opts["languages"] = [t for t in ("ja", "en", "zh-Hans", "ko", "vi")
                           if t in config.languages]
    channels["x"] = dataclasses.replace(channels["x"], options=x_opts)
    return dataclasses.replace(config, channels=channels)


def _settings(db_url: str, urls: dict[str, str]) -> Settings:
    secrets = {
        "TELEGRAM_BOT_TOKEN": Secret(TELEGRAM_TOKEN),
        "LINE_CHANNEL_ACCESS_TOKEN": Secret(LINE_TOKEN),
        "LINE_CHANNEL_SECRET": Secret("demo-line-secret"),
        "X_API_KEY": Secret(X_KEYS[0]), "X_API_SECRET": Secret(X_KEYS[1]),
        "X_ACCESS_TOKEN": Secret(X_KEYS[2]), "X_ACCESS_TOKEN_SECRET": Secret(X_KEYS[3]),
    }
    return Settings(database_url=db_url, secrets=secrets, base_urls=urls,
                    http_host="127.0.0.1", http_port=0, log_format="text")


def _seed(svc: Service, per_language: int) -> int:
    from bot.store import subscribers as store

    wards = svc.config.ward_codes
    subs = []
    n = itertools.count(1)
    for language in svc.config.languages:
        for i in range(per_language):
            k = next(n)
            ward = (wards[k % len(wards)],)
            subs.append(Subscriber(channel="telegram", user_id=str(100000 + k),
                                   language=language, wards=ward))
            subs.append(Subscriber(channel="line", user_id=f"U{k:032x}", language=language,
                                   wards=ward if i % 3 else wards))
    with svc.engine.begin() as conn:
        store.import_batch(conn, subs)
    return len(subs)


def _progress_table(svc: Service, alert_id: int, started: float) -> Table:
    table = Table(title=f"Delivery of alert {alert_id} — {time.monotonic() - started:.1f}s")
    for col in ("channel", "language", "sent", "pending", "failed"):
        table.add_column(col, justify="right" if col not in ("channel", "language") else "left")
    for channel, by_lang in sorted(svc.progress(alert_id).items()):
        for lang, st in sorted(by_lang.items()):
            def n(*keys: str, st: dict[str, dict[str, int]] = st) -> str:
                return str(sum(st.get(k, {}).get("recipients", 0) for k in keys))
            table.add_row(channel, lang, n("sent"), n("pending", "in_flight"),
                          n("failed", "expired", "cancelled"))
    return table


def run_demo(console: Console | None = None, *, per_language: int = 6) -> dict[str, int]:
    """Run the demonstration; returns the delivery counts by status."""
    from bot.dispatcher import Dispatcher
    from bot.fakes.line import FakeLine
    from bot.fakes.telegram import FakeTelegram
    from bot.fakes.x import FakeX
    from bot.intake import Intake
    from bot.render import load_renderer
    from bot.runtime import build_channels
    from bot.service import channel_plans

    console = console or Console()
    with tempfile.TemporaryDirectory(prefix="bousai-demo-") as tmp, \
            FakeTelegram(token=TELEGRAM_TOKEN) as tg, FakeLine(token=LINE_TOKEN) as line, \
            FakeX(api_key=X_KEYS[0], api_secret=X_KEYS[1], access_token=X_KEYS[2],
                  access_token_secret=X_KEYS[3]) as x:
        db_url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        console.print(f"[bold]bousai demo[/] — fake Telegram {tg.url}, LINE {line.url}, "
                      f"X {x.url}; database {db_url}")
        config = _config()
        settings = _settings(db_url, {"telegram": tg.url, "line": line.url, "x": x.url})
        engine = make_engine(db_url)
        upgrade(engine)
        svc = Service(config=config, settings=settings, engine=engine,
                      renderer=load_renderer(config), plans=channel_plans(config))
        seeded = _seed(svc, per_language)
        console.print(f"seeded {seeded} subscribers in {len(config.languages)} languages "
                      f"across {len(config.wards)} wards (Telegram and LINE)")

        intake = Intake.for_service(svc)
        records = intake.process(DEMO_DOCUMENT.read_bytes(), DEMO_DOCUMENT.name)
        rec = records[0]
        console.print(f"ingested {DEMO_DOCUMENT.name}: {rec['kind']} "
                      f"「{rec['headline_ja']}」 max intensity {rec['max_intensity']}, "
                      f"policy {rec['policy']} ({rec['rule']}) → alert {rec['id']}")
        alert_id = int(rec["id"])
        if rec.get("action") == "hold":
            svc.lifecycle.approve(alert_id, "demo-operator")
            console.print(f"operator demo-operator approved alert {alert_id}")

        channels = build_channels(config, settings)
        dispatcher = Dispatcher(engine, channels, delivery=config.delivery, lease_ttl=3.0)

        async def send() -> None:
            started = time.monotonic()
            with Live(_progress_table(svc, alert_id, started), console=console,
                      refresh_per_second=8, transient=False) as live:
                task = asyncio.create_task(dispatcher.run(until_idle=True))
                while not task.done():
                    await asyncio.sleep(0.25)
                    live.update(_progress_table(svc, alert_id, started))
                await task
                live.update(_progress_table(svc, alert_id, started))
            for ch in channels.values():
                await ch.close()

        asyncio.run(send())

        from bot.store.alerts import get_alert

        with engine.connect() as conn:
            alert = get_alert(conn, alert_id)
        panels = []
        for lang in ("ja", "en", "vi", "ne", "ja-easy", "zh-Hant"):
            if lang not in config.languages:
                continue
            text, mt = svc.renderer.text(alert, lang)
            panels.append(Panel(text, title=f"{lang}{' (MT)' if mt else ''}", width=48))
        console.print(Group(*panels))
        counts = {k: sum(v2.get(k, {}).get("recipients", 0) for by in
                         svc.progress(alert_id).values() for v2 in by.values())
                  for k in ("sent", "failed", "pending", "cancelled", "expired")}
        console.print(f"[bold]summary[/]: fake Telegram received {len(tg.sent)} messages, "
                      f"fake LINE {sum(len(r.to) for r in line.accepted)} recipients in "
                      f"{len(line.accepted)} multicasts, fake X {len(x.posts)} posts; "
                      f"ledger: {counts}")
        engine.dispose()
        return counts

