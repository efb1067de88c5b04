"""EEW latency: from the fake DMDATA server pushing an earthquake early warning for
熊本 to the first request reaching the fake Telegram, through the real push client
(bot/push/dmdata.py: WebSocket, base64 + gzip, the intake, policy, rendering in 16
languages, fan-out) and the dispatcher, already running and idle. Baseline in the
same process: the same parsed alert handed straight to Service.submit (no push, no
parsing, no policy) with Dispatcher.wake(), as bench/latency.py measures it. Both
fakes run in this process (their own threads), so every timestamp comes from one
monotonic clock.

    .venv/bin/python bench/eew.py --pushes 20 --db sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import TOKEN, fresh_db, header, median, table, telegram_channel
from latency import build_service

TARGET_MS = 1000.0
SAMPLE = (Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "jma"
          / "37_01_02_240613_VXSE43.xml")  # 第2報: 熊本県熊本 newly in the warning
KEY = "bench-dmdata-key"


def document(n: int) -> bytes:
    """The sample as a live warning of a new earthquake (its own EventID), so that
    every push is one alarm and none is a repeat of the last."""
    from bot.fakes.dmdata import as_if_now

    xml = re.sub(rb"<EventID>\d+</EventID>", f"<EventID>{20990101000000 + n}</EventID>".encode(),
                 SAMPLE.read_bytes())
    return as_if_now(xml)


async def _first_request(fake: Any, before: int) -> float:
    deadline = time.monotonic() + 30
    while len(fake.sent) <= before and time.monotonic() < deadline:
        await asyncio.sleep(0.002)
    with fake.lock:
        new = fake.sent[before:]
    if not new:
        raise RuntimeError("no message reached the fake Telegram within 30 s")
    return min(m.at for m in new)


async def measure(url: str, pushes: int, subscribers: int, poll: float
                  ) -> dict[str, list[float]]:
    from bot.config import Secret
    from bot.dispatcher import Dispatcher
    from bot.fakes.dmdata import FakeDmdata
    from bot.fakes.telegram import FakeTelegram
    from bot.ingest import Jurisdiction, detect_and_parse
    from bot.intake import Intake
    from bot.push.dmdata import DmdataSource
    from bot.push.settings import DmdataSettings

    svc = build_service(url, subscribers)
    out: dict[str, list[float]] = {"DMDATA push": [], "baseline: submit + wake()": []}
    with FakeTelegram(TOKEN) as tg, FakeDmdata(api_key=KEY) as dm:
        channel = telegram_channel(tg.url, None)
        dispatcher = Dispatcher(svc.engine, {"telegram": channel}, poll_interval=poll)
        source = DmdataSource(Intake.for_service(svc), DmdataSettings(
            base_url=dm.url, api_key=Secret(KEY)), on_accept=dispatcher.wake)
        await source.open_channels([channel])
        stop = asyncio.Event()
        tasks = [asyncio.create_task(dispatcher.run()), asyncio.create_task(source.run(stop))]
        while not (dispatcher.states["telegram"].owns_lease and source.state.connected_since):
            await asyncio.sleep(0.01)
        jur = Jurisdiction.from_config(svc.config)
        for i in range(pushes):
            for mode in out:  # alternate, so that load on the machine hits both alike
                await asyncio.sleep(random.uniform(0.3, 0.7))  # idle, random poll phase
                doc = document(2 * i + (mode != "DMDATA push"))
                before = len(tg.sent)
                if mode == "DMDATA push":
                    t0 = time.monotonic()
                    await asyncio.to_thread(dm.push, doc)
                else:
                    alert = detect_and_parse(doc, jur, origin="bench")[0]

                    def submit(a: Any = alert) -> float:
                        svc.lifecycle.submit(a, operator="bench", action="auto")
                        return time.monotonic()

                    started = time.monotonic()
                    await asyncio.to_thread(submit)
                    dispatcher.wake()
                    t0 = started
                out[mode].append((await _first_request(tg, before) - t0) * 1000)
        stop.set()
        dispatcher.stop()
        await asyncio.gather(*tasks)
        await channel.close()
        if source.state.reconnects:
            print(f"note: the push source reconnected {source.state.reconnects} times")
    svc.engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pushes", type=int, default=20, help="warnings pushed (and baseline runs)")
    ap.add_argument("--subscribers", type=int, default=16)
    ap.add_argument("--poll-interval", type=float, default=0.2,
                    help="Dispatcher poll_interval (the product's default is 0.2 s)")
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    args = ap.parse_args()
    header("eew: DMDATA push of a 緊急地震速報 for 熊本 → first request at the fake Telegram")
    print(f"target: ≤ {TARGET_MS:.0f} ms (median of {args.pushes} pushes); "
          f"{args.subscribers} Telegram subscribers in 16 languages; "
          f"poll_interval {args.poll_interval} s")
    rows = []
    for db in args.db.split(","):
        with fresh_db(db) as url:
            res = asyncio.run(measure(url, args.pushes, args.subscribers, args.poll_interval))
        base = median(res["baseline: submit + wake()"])
        for mode, ms in res.items():
            p90 = statistics.quantiles(ms, n=10, method="inclusive")[-1] if len(ms) > 1 else ms[0]
            rows.append([db, mode, len(ms), median(ms), p90, max(ms), median(ms) / base])
    print(table(["db", "path", "runs", "median ms", "p90 ms", "max ms", "ratio"], rows))
    for r in rows:
        if r[1] == "DMDATA push":
            print(f"verdict {r[0]}: push → first request median {r[3]:.0f} ms, p90 {r[4]:.0f} ms "
                  f"(target ≤ {TARGET_MS:.0f}) → {'PASS' if r[3] <= TARGET_MS else 'MISS'}")


if __name__ == "__main__":
    sys.exit(main())
