"""Latency: from the moment an auto-send alert is accepted (Service.submit returns)
to the first request reaching the fake Telegram, with the dispatcher already
running and idle. Measured with and without calling Dispatcher.wake() after
submit. The fake runs in this process (its own thread) so both timestamps come
from the same monotonic clock.

    .venv/bin/python bench/latency.py --alerts 20 --db sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from typing import Any

from common import TOKEN, WARDS, fresh_db, header, make_alert, median, table, telegram_channel

TARGET_MS = 200.0


def build_service(url: str, subscribers: int) -> Any:
    from bot.config import Settings, load_config
    from bot.db import make_engine
    from bot.domain import Subscriber
    from bot.render import load_renderer
    from bot.service import Service
    from bot.store.fanout import PER_RECIPIENT, ChannelPlan
    from bot.store.subscribers import import_batch

    config = load_config()
    settings = Settings(database_url=url, secrets={}, base_urls={}, http_host="127.0.0.1",
                        http_port=0, log_format="text")
    from channels.registry import spec

    plans = {"telegram": ChannelPlan(name="telegram", limits=spec("telegram").limits,
                                     mode=PER_RECIPIENT)}
    svc = Service(config=config, settings=settings, engine=make_engine(url),
                  renderer=load_renderer(config), plans=plans)
    langs = config.languages
    with svc.engine.begin() as conn:
        import_batch(conn, [Subscriber(channel="telegram", user_id=str(2_000_000 + i),
                                       language=langs[i % len(langs)],
                                       wards=(WARDS[i % len(WARDS)],))
                            for i in range(subscribers)])
    return svc


async def measure(url: str, alerts: int, subscribers: int, poll: float) -> dict[str, list[float]]:
    from bot.dispatcher import Dispatcher
    from bot.fakes.telegram import FakeTelegram

    svc = build_service(url, subscribers)
    out: dict[str, list[float]] = {"poll only": [], "wake()": []}
    with FakeTelegram(TOKEN) as fake:
        channel = telegram_channel(fake.url, None)
        await channel.start()
        dispatcher = Dispatcher(svc.engine, {"telegram": channel}, poll_interval=poll)
        task = asyncio.create_task(dispatcher.run())
        while not dispatcher.states["telegram"].owns_lease:
            await asyncio.sleep(0.01)
        for mode in ("poll only", "wake()"):
            for _ in range(alerts):
                await asyncio.sleep(random.uniform(0.3, 0.7))  # idle, at a random poll phase
                before = len(fake.sent)

                def submit() -> float:
                    svc.lifecycle.submit(make_alert(), operator="bench", action="auto")
                    return time.monotonic()

                t0 = await asyncio.to_thread(submit)
                if mode == "wake()":
                    dispatcher.wake()
                deadline = time.monotonic() + 30
                while len(fake.sent) < before + subscribers and time.monotonic() < deadline:
                    await asyncio.sleep(0.002)
                with fake.lock:
                    new = fake.sent[before:]
                if not new:
                    raise RuntimeError("no message reached the fake within 30 s")
                out[mode].append((min(m.at for m in new) - t0) * 1000)
        dispatcher.stop()
        await task
        await channel.close()
    svc.engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alerts", type=int, default=20, help="alerts per mode")
    ap.add_argument("--subscribers", type=int, default=5)
    ap.add_argument("--poll-interval", type=float, default=0.2,
                    help="Dispatcher poll_interval (the product's default is 0.2 s)")
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    args = ap.parse_args()
    header("latency: Service.submit returns → first request at the fake Telegram")
    print(f"target: ≤ {TARGET_MS:.0f} ms (median of {args.alerts} alerts per mode); "
          f"poll_interval {args.poll_interval} s; {args.subscribers} subscribers")
    rows = []
    for db in args.db.split(","):
        with fresh_db(db) as url:
            res = asyncio.run(measure(url, args.alerts, args.subscribers, args.poll_interval))
        for mode, ms in res.items():
            p90 = statistics.quantiles(ms, n=10, method="inclusive")[-1] if len(ms) > 1 else ms[0]
            rows.append([db, mode, len(ms), median(ms), min(ms), p90, max(ms)])
    print(table(["db", "mode", "alerts", "median ms", "min ms", "p90 ms", "max ms"], rows))
    for r in rows:
        print(f"verdict {r[0]} {r[1]}: median {r[3]:.1f} ms (target ≤ {TARGET_MS:.0f}) → "
              f"{'PASS' if r[3] <= TARGET_MS else 'MISS'}")


if __name__ == "__main__":
    main()
