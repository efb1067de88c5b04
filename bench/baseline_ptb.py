"""A plain python-telegram-bot loop, as a city would write it, against the same
fake Telegram limited to 30 messages/s: how many messages it loses (429s not
retried) and how long it takes, beside the engine's figures from pacing.py.

    for chat in chats:
        try:
            await bot.send_message(chat, text)
        except TelegramError as exc:
            print(exc)

    .venv/bin/python bench/baseline_ptb.py --messages 3000            # with the engine (~100 s)
    .venv/bin/python bench/baseline_ptb.py --messages 3000 --no-engine
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

import pacing
from common import TOKEN, fake_telegram_process, header, median, table

os.environ.setdefault("PTB_TIMEDELTA", "1")  # as channels/telegram.py: no deprecation noise


async def plain_loop(base_url: str, chats: list[str], text: str) -> dict[str, Any]:
    from telegram import Bot
    from telegram.error import RetryAfter, TelegramError

    errors = {"429": 0, "other": 0}
    t0 = time.perf_counter()
    async with Bot(TOKEN, base_url=f"{base_url}/bot") as bot:
        for chat in chats:
            try:
                await bot.send_message(chat, text)
            except RetryAfter:
                errors["429"] += 1
            except TelegramError as exc:  # what a careful city script would print
                errors["other"] += 1
                print(f"  send to {chat} failed: {exc}")
    return {"seconds": time.perf_counter() - t0, **errors}


def run_ptb(messages: int, repeat: int) -> list[Any]:
    chats = [str(1_000_000_000 + i) for i in range(1, messages + 1)]
    runs = []
    for i in range(repeat):
        with fake_telegram_process(rate_limit=pacing.LIMIT) as (url, stats):
            r = asyncio.run(plain_loop(url, chats, "地震情報 / Earthquake information"))
        r |= {"delivered": stats.get("sent", 0), "too_many": stats.get("too_many", 0)}
        runs.append(r)
        print(f"  plain PTB run {i + 1}: {r['delivered']} delivered, {r['429']} lost to 429 in "
              f"{r['seconds']:.1f} s", flush=True)
    delivered = int(median([r["delivered"] for r in runs]))
    seconds = median([r["seconds"] for r in runs])
    too_many = median([r["too_many"] for r in runs])
    rate = delivered / seconds
    # "fraction of 30" is left out: a loop that drops what is refused is not pacing
    return ["plain PTB loop", messages, delivered, messages - delivered, seconds, rate,
            "-", too_many, too_many / messages * 10_000]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-engine", action="store_true", help="skip the engine's run")
    args = ap.parse_args()
    header("plain python-telegram-bot loop vs the engine, fake Telegram limited to 30/s")
    rows = [run_ptb(args.messages, args.repeat)]
    if not args.no_engine:
        rows.append(pacing.run_engine(args.messages, args.repeat))
    print(table(pacing.HEADERS, rows))
    ptb = rows[0]
    print(f"verdict plain PTB: loses {ptb[3]:,} of {ptb[1]:,} messages "
          f"({ptb[3] / ptb[1]:.0%}) to unretried 429s in {ptb[4]:.1f} s")
    if not args.no_engine:
        print(pacing.verdict(rows[1]))


if __name__ == "__main__":
    main()
