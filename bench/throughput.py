"""Engine throughput: the dispatcher sends N Telegram messages to a fake Telegram
with no limit (in its own process, so its CPU is not counted), the channel's own
limit raised to 100,000/s. Reports messages/s and the dispatcher process's CPU
seconds per 1,000 messages.

    .venv/bin/python bench/throughput.py --messages 3000 --repeat 3 --db sqlite
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from common import (
    clear_alerts,
    dispatch_all,
    fake_telegram_process,
    fresh_db,
    header,
    median,
    queue_telegram,
    run_child,
    table,
)

TARGET = 2000.0


def child(url: str, fake_url: str, request: str, profile: str | None) -> dict[str, float]:
    if not profile:
        return asyncio.run(dispatch_all(url, fake_url, 100_000, request))
    import cProfile

    with cProfile.Profile() as prof:
        result = asyncio.run(dispatch_all(url, fake_url, 100_000, request))
    prof.dump_stats(profile)
    return result


def bench(db: str, messages: int, repeat: int, request: str,
          profile: str | None = None) -> list[Any]:
    runs = []
    with fresh_db(db) as url:
        for i in range(repeat):
            if i:
                clear_alerts(url)
            queue_telegram(url, messages, seed=i == 0)
            with fake_telegram_process() as (fake_url, stats):
                r = run_child(child, url, fake_url, request,
                              profile and f"{profile}.{db}.{request}.{i}")
            r["fake_sent"] = stats.get("sent", 0)
            if r["db_sent"] != messages or r["fake_sent"] != messages:
                print(f"  WARNING run {i + 1}: fake got {r['fake_sent']}, ledger says "
                      f"{r['db_sent']} sent of {messages}", flush=True)
            runs.append(r)
            print(f"  {request} run {i + 1}: {r['sent'] / r['wall']:,.0f} msg/s, "
                  f"{r['cpu'] / r['sent'] * 1000:.2f} CPU s/1000, {r['retried']} retried, "
                  f"{stats.get('requests', 0)} requests at the fake", flush=True)
    wall = median([r["wall"] for r in runs])
    cpu = median([r["cpu"] for r in runs])
    label = f"{db}, {request} request" + (" (product)" if request == "aiohttp" else
                                            " (python-telegram-bot default)")
    return [label, messages, repeat, wall, messages / wall, cpu, cpu / messages * 1000,
            median([r["rss_mb"] for r in runs])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    ap.add_argument("--request", default="httpx,aiohttp",
                    help="PTB request backend(s): aiohttp (the product's, "
                         "channels/telegram_request.py), httpx (PTB's default), or both")
    ap.add_argument("--profile", metavar="PREFIX",
                    help="write cProfile stats of each dispatcher run to PREFIX.<db>.<run>")
    args = ap.parse_args()
    header("engine throughput: dispatcher → fake Telegram without limits")
    print(f"target: ≥ {TARGET:,.0f} messages/s; medians of {args.repeat} runs; fake server in "
          "its own process")
    rows = [bench(db, args.messages, args.repeat, request, args.profile)
            for db in args.db.split(",") for request in args.request.split(",")]
    print(table(["db", "messages", "runs", "wall s", "msg/s", "CPU s", "CPU s/1000 msg",
                 "RSS MB"], rows))
    for r in rows:
        print(f"verdict {r[0]}: {r[4]:,.0f} msg/s (target ≥ {TARGET:,.0f}) → "
              f"{'PASS' if r[4] >= TARGET else 'MISS'}")


if __name__ == "__main__":
    main()
