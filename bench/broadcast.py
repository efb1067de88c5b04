"""Broadcast channels: from the moment an alert is accepted (Service.submit returns,
then Dispatcher.wake()) to the first message in every language, with the Telegram
broadcast channels on for all sixteen languages.

The dispatcher runs the per-chat bot (``telegram``, at Telegram's real 30
messages/s) and the broadcast channels (``tg_channels``, one post per
language channel) through python-telegram-bot against the fake Telegram, which
enforces 30 messages/s per bot (429 beyond). Both share one bot and so one pacer:
the channel posts interleave with a growing per-chat backlog (each alert adds
``--subscribers`` per-chat messages, 20 s of sending at 30/s), as in a real
emergency. "First message in every language" is the time until the last of the
sixteen languages has its first message, a channel post or a per-chat message,
whichever comes first; its channel post reaches every member at once.

    .venv/bin/python bench/broadcast.py --runs 7 --subscribers 600 --db sqlite,postgres
    .venv/bin/python bench/broadcast.py --runs 3 --subscribers 300 --db sqlite --compare
    .venv/bin/python bench/broadcast.py --runs 1 --db sqlite,postgres --paid 5000
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import time
from typing import Any

from common import LANGUAGES, TOKEN, WARDS, fresh_db, header, make_alert, median, table

TARGET_S = 2.0


def chat_name(lang: str) -> str:
    return f"@kumamoto_bousai_{lang.replace('-', '_').lower()}"


def build(url: str, fake_url: str, subscribers: int, channels_on: bool) -> Any:
    from bot.config import ChannelSettings, Secret, Settings, load_config
    from bot.db import make_engine
    from bot.domain import Subscriber
    from bot.render import load_renderer
    from bot.service import Service, channel_plans
    from bot.store.subscribers import import_batch

    config = load_config()
    chans = {"telegram": ChannelSettings(name="telegram", enabled=True,
                                         options={"messages_per_second": 30})}
    if channels_on:
        chans["tg_channels"] = ChannelSettings(
            name="tg_channels", enabled=True,
            options={"chats": {lang: chat_name(lang) for lang in LANGUAGES}})
    config = dataclasses.replace(config, channels=chans)
    settings = Settings(database_url=url, secrets={"TELEGRAM_BOT_TOKEN": Secret(TOKEN)},
                        base_urls={"telegram": fake_url, "tg_channels": fake_url},
                        http_host="127.0.0.1", http_port=0, log_format="text")
    svc = Service(config=config, settings=settings, engine=make_engine(url),
                  renderer=load_renderer(config), plans=channel_plans(config))
    with svc.engine.begin() as conn:
        import_batch(conn, [Subscriber(channel="telegram", user_id=str(3_000_000 + i),
                                       language=LANGUAGES[i % len(LANGUAGES)],
                                       wards=(WARDS[i % len(WARDS)],))
                            for i in range(subscribers)])
    return svc



async def _start_dispatcher(svc: Any) -> tuple[dict[str, Any], Any, asyncio.Task[bool]]:
    """The service's channels opened and a dispatcher running that holds every lease."""
    from bot.dispatcher import Dispatcher
    from bot.runtime import build_channels

    channels = build_channels(svc.config, svc.settings)
    for ch in channels.values():
        await ch.start()
    dispatcher = Dispatcher(svc.engine, channels, poll_interval=0.2)
    task = asyncio.create_task(dispatcher.run())
    while not all(st.owns_lease for st in dispatcher.states.values()):
        await asyncio.sleep(0.01)
    return channels, dispatcher, task

async def measure(url: str, runs: int, subscribers: int, channels_on: bool
                  ) -> list[dict[str, float]]:
    from bot.fakes.telegram import FakeTelegram

    out: list[dict[str, float]] = []
    with FakeTelegram(TOKEN, rate_limit=30) as fake:
        lang_of: dict[str, str] = {}
        for lang in LANGUAGES:
            lang_of[str(fake.add_channel(chat_name(lang), members=10_000))] = lang
        svc = build(url, fake.url, subscribers, channels_on)
        lang_of.update({str(3_000_000 + i): LANGUAGES[i % len(LANGUAGES)]
                        for i in range(subscribers)})
        channels, dispatcher, task = await _start_dispatcher(svc)
        for run in range(runs):
            await asyncio.sleep(random.uniform(0.3, 0.7))
            before = len(fake.sent)
            tag = f"[run-{run}-{random.randrange(10**6)}]"  # this alert's messages

            def submit(tag: str = tag) -> float:
                alert = make_alert(body_ja=f"熊本地方で強い揺れ。{tag}",
                                   texts={lang: f"Strong shaking (benchmark). {tag}"
                                          for lang in LANGUAGES})
                svc.lifecycle.submit(alert, operator="bench", action="auto")
                return time.monotonic()

            t0 = await asyncio.to_thread(submit)
            dispatcher.wake()
            first: dict[str, float] = {}
            posts: dict[str, float] = {}
            deadline = time.monotonic() + 300
            while len(first) < len(LANGUAGES) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
                with fake.lock:
                    new = fake.sent[before:]
                for m in new:
                    lang = lang_of.get(m.chat_id)
                    if lang is None or tag not in m.text:
                        continue
                    first.setdefault(lang, m.at)
                    if m.chat_id.startswith("-100"):
                        posts.setdefault(lang, m.at)
            if len(first) < len(LANGUAGES):
                raise RuntimeError(f"only {len(first)} languages reached within 300 s")
            print(f"  run {run + 1}: every language {max(first.values()) - t0:.2f} s, "
                  f"{len(posts)} channel posts", flush=True)
            out.append({"every_language_s": max(first.values()) - t0,
                        "first_s": min(first.values()) - t0,
                        "channel_posts": len(posts),
                        "last_post_s": (max(posts.values()) - t0) if posts else float("nan"),
                        "backlog": len(fake.sent) - before})
        dispatcher.stop()
        done, _ = await asyncio.wait({task}, timeout=30)
        if not done:
            import sys
            for t in asyncio.all_tasks():
                t.print_stack(file=sys.stderr)
            raise RuntimeError("dispatcher did not stop")
        for ch in channels.values():
            await ch.close()
        too_many = fake.too_many
    svc.engine.dispose()
    for r in out:
        r["429s"] = too_many
    return out


async def measure_paid(url: str, subscribers: int) -> dict[str, float]:
    """One paid alert to ``subscribers`` per-chat subscribers: paid broadcasts on
    (``paid_broadcast_kinds = ["evacuation"]``), the fake at 30/s free and 1000/s paid."""
    from bot.config import ChannelSettings
    from bot.domain import Evacuation, EvacuationLevel, Kind, Severity
    from bot.fakes.telegram import FakeTelegram
    from bot.service import channel_plans

    with FakeTelegram(TOKEN, rate_limit=30, paid_rate_limit=1000) as fake:
        svc = build(url, fake.url, subscribers, False)
        svc.config = dataclasses.replace(svc.config, channels={"telegram": ChannelSettings(
            name="telegram", enabled=True,
            options={"messages_per_second": 30, "paid_broadcast": True,
                     "paid_broadcast_kinds": ["evacuation"]})})
        svc.plans = channel_plans(svc.config)
        channels, dispatcher, task = await _start_dispatcher(svc)

        def submit() -> float:
            alert = make_alert(kind=Kind.EVACUATION, severity=Severity.EXTREME,
                               payload=Evacuation(level=EvacuationLevel.EVACUATE),
                               texts={lang: "Evacuate now (benchmark)." for lang in LANGUAGES})
            svc.lifecycle.submit(alert, operator="bench", action="auto")
            return time.monotonic()

        t0 = await asyncio.to_thread(submit)
        dispatcher.wake()
        deadline = time.monotonic() + 120
        while len(fake.sent) < subscribers and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        dispatcher.stop()
        await task
        for ch in channels.values():
            await ch.close()
        with fake.lock:
            sent = list(fake.sent)
        stars, too_many = fake.stars_spent, fake.too_many
    svc.engine.dispose()
    last = max(m.at for m in sent) - t0
    span = max(m.at for m in sent) - min(m.at for m in sent)
    return {"sent": len(sent), "paid": sum(m.paid for m in sent), "last_s": last,
            "rate": (len(sent) - 1) / span if span else float("nan"), "stars": stars,
            "429s": too_many, "free_s": subscribers / 30}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="alerts per configuration")
    ap.add_argument("--subscribers", type=int, default=600,
                    help="per-chat subscribers (16 languages): each alert's backlog at 30/s")
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    ap.add_argument("--paid", type=int, default=0, metavar="N",
                    help="also: one paid-broadcast alert to N per-chat subscribers "
                         "(time to the last, rate against 1000/s, Stars)")
    ap.add_argument("--compare", action="store_true",
                    help="also run without the broadcast channels (slow: the per-chat "
                         "backlog grows with every alert)")
    args = ap.parse_args()
    header("broadcast: accept → first message in every language (16), Telegram channels on")
    print(f"target: ≤ {TARGET_S:g} s (median of {args.runs} alerts); fake Telegram at 30/s "
          f"per bot; {args.subscribers} per-chat subscribers, a new backlog each alert")
    rows = []
    verdicts = []
    for db in args.db.split(","):
        for on in (True, False) if args.compare else (True,):
            with fresh_db(db) as url:
                res = asyncio.run(measure(url, args.runs, args.subscribers, on))
            every = [r["every_language_s"] for r in res]
            rows.append([db, "channels on" if on else "per-chat only", len(res),
                         median(every), min(every), max(every),
                         median([r["first_s"] for r in res]),
                         median([r["channel_posts"] for r in res]),
                         median([r["last_post_s"] for r in res]), res[-1]["429s"]])
            if on:
                verdicts.append((db, median(every)))
    print(table(["db", "mode", "alerts", "median s", "min s", "max s", "first msg s",
                 "channel posts", "last post s", "429s"], rows))
    print("(per-chat only: the first per-chat message in each language reaches one "
          "subscriber; the channel post reaches every member of that language's channel)")
    for db, value in verdicts:
        print(f"verdict {db}: every language in {value:.2f} s median (target ≤ "
              f"{TARGET_S:g} s) → {'PASS' if value <= TARGET_S else 'MISS'}")
    if args.paid:
        paid_rows = []
        for db in args.db.split(","):
            with fresh_db(db) as url:
                r = asyncio.run(measure_paid(url, args.paid))
            paid_rows.append([db, int(r["sent"]), int(r["paid"]), r["last_s"], r["rate"],
                              r["rate"] / 1000, r["stars"], int(r["429s"]), r["free_s"]])
        print("paid broadcast: one evacuation order, paid_broadcast_kinds = [\"evacuation\"]")
        print(table(["db", "sent", "paid", "last s", "msg/s", "of 1000/s", "Stars",
                     "429s", "at 30/s s"], paid_rows))


if __name__ == "__main__":
    main()
