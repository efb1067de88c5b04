"""Pacing: the dispatcher sends N messages to a fake Telegram that enforces
30 messages/s with 429s. Reports the achieved rate as a fraction of 30 and the
429s the fake answered. 3,000 messages take about 100 s per run.

    .venv/bin/python bench/pacing.py --messages 3000 --repeat 1
    .venv/bin/python bench/pacing.py --messages 300          # quick
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

LIMIT = 30.0
TARGET_FRACTION = 0.95
TARGET_429_PER_10K = 1.0
HEADERS = ["who", "messages", "delivered", "lost", "seconds", "msg/s", "fraction of 30",
           "429s", "429 per 10k"]


def child(url: str, fake_url: str) -> dict[str, float]:
    return asyncio.run(dispatch_all(url, fake_url, rate=None))  # the channel's own 30/s


def run_engine(messages: int, repeat: int = 1, db: str = "sqlite") -> list[Any]:
    """One table row for the engine (medians over ``repeat`` runs)."""
    runs = []
    with fresh_db(db) as url:
        for i in range(repeat):
            if i:
                clear_alerts(url)
            queue_telegram(url, messages, seed=i == 0)
            with fake_telegram_process(rate_limit=LIMIT) as (fake_url, stats):
                r = run_child(child, url, fake_url)
            span = (stats["last_at"] - stats["first_at"]) if stats.get("sent", 0) > 1 else 0
            r |= {"delivered": stats.get("sent", 0), "too_many": stats.get("too_many", 0),
                  "fake_rate": (stats["sent"] - 1) / span if span else 0.0}
            runs.append(r)
            print(f"  engine run {i + 1}: {r['delivered']} delivered in {r['wall']:.1f} s, "
                  f"{r['fake_rate']:.2f}/s at the fake, {r['too_many']} × 429", flush=True)
    delivered = int(median([r["delivered"] for r in runs]))
    too_many = median([r["too_many"] for r in runs])
    rate = median([r["fake_rate"] for r in runs])
    return [f"engine ({db})", messages, delivered, messages - delivered,
            median([r["wall"] for r in runs]), rate, rate / LIMIT, too_many,
            too_many / messages * 10_000]


def verdict(row: list[Any]) -> str:
    ok = row[6] >= TARGET_FRACTION and row[8] <= TARGET_429_PER_10K and row[3] == 0
    return (f"verdict {row[0]}: {row[6]:.3f} of 30/s (≥ {TARGET_FRACTION}), {row[8]:.1f} × 429 "
            f"per 10,000 (≤ {TARGET_429_PER_10K:g}), {row[3]} lost → "
            f"{'PASS' if ok else 'MISS'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    args = ap.parse_args()
    header("pacing: dispatcher → fake Telegram limited to 30 messages/s (429 beyond)")
    print(f"targets: ≥ {TARGET_FRACTION} of 30/s, ≤ {TARGET_429_PER_10K:g} × 429 per 10,000 "
          "messages; rate measured at the fake (first to last accepted message)")
    row = run_engine(args.messages, args.repeat, args.db)
    print(table(HEADERS, [row]))
    print(verdict(row))


if __name__ == "__main__":
    main()
