"""Engine throughput: the dispatcher sends N Telegram messages to a fake Telegram
with no limit (in its own process, so its CPU is not counted), the channel's own
limit raised to 100,000/s. Reports messages/s and the dispatcher process's CPU
seconds per 1,000 messages; and, as the limit of the machine it runs on, a bare
aiohttp loop sending the same sendMessage requests (the same form fields
python-telegram-bot sends) to the same fake process with the same concurrency, in
a process of its own, just before and just after the engine in the same run: the
engine's rate as a ratio to that loop's (the mean of its two runs).

    .venv/bin/python bench/throughput.py --messages 3000 --repeat 3 --db sqlite
    .venv/bin/python bench/throughput.py --request aiohttp --no-baseline   # engine only
    .venv/bin/python bench/throughput.py --request aiohttp,aiohttp+no-parse,none
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from common import (
    LANGUAGES,
    TOKEN,
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
TARGET_RATIO = 0.6
CONCURRENCY = 64  # Dispatcher(concurrency=64), its default
POOL_SIZE = 128  # TelegramChannel(pool_size=128), its default


SUGGESTED = "aiohttp+no-parse"
NO_HTTP = "none"  # the engine's own cost: a channel that answers at once, no request


async def _send_nothing(self: Any, message: Any) -> Any:
    from channels.base import SendResult

    await asyncio.sleep(0)
    return SendResult(message_ids=("1",))


async def _send_without_parse(self: Any, message: Any) -> Any:
    """The suggested TelegramChannel._send: the same request through the same Bot and
    request backend, but its answer is not parsed into a telegram.Message (about 150
    attribute sets each); only the message id is read. ``do_api_request`` is PTB's
    public call for any endpoint; Bot API method names are case-insensitive, and
    the lower-case name keeps PTB from warning that ``send_message`` exists."""
    from channels.base import SendResult

    if not self._started:
        await self.start()
    ids = []
    reply_to = message.reply_to
    for i, part in enumerate(message.parts):
        if i:
            await asyncio.sleep(self.limits.chat_interval)
        kwargs: dict[str, Any] = {"chat_id": message.recipients[0], "text": part,
                                  "link_preview_options": {"is_disabled": True}}
        if reply_to:
            kwargs["reply_parameters"] = {"message_id": int(reply_to),
                                          "allow_sending_without_reply": True}
        result = await self.bot.do_api_request("sendmessage", api_kwargs=kwargs)
        ids.append(str(result["message_id"]))
        reply_to = None
    return SendResult(message_ids=tuple(ids))


def child(url: str, fake_url: str, request: str, profile: str | None) -> dict[str, float]:
    if request in (SUGGESTED, NO_HTTP):
        from channels.telegram import TelegramChannel

        TelegramChannel._send = (  # type: ignore[method-assign]
            _send_without_parse if request == SUGGESTED else _send_nothing)
        request = "aiohttp"
    if not profile:
        return asyncio.run(dispatch_all(url, fake_url, 100_000, request))
    import cProfile

    with cProfile.Profile() as prof:
        result = asyncio.run(dispatch_all(url, fake_url, 100_000, request))
    prof.dump_stats(profile)
    return result


def bare_loop_child(fake_url: str, messages: int) -> dict[str, float]:
    return asyncio.run(bare_loop(fake_url, messages))


async def bare_loop(fake_url: str, messages: int, concurrency: int = CONCURRENCY,
                    pool_size: int = POOL_SIZE) -> dict[str, float]:
    """The machine's limit for these requests: ``concurrency`` coroutines posting
    sendMessage with the form fields python-telegram-bot sends for the engine's
    messages (chat_id, text, link_preview_options) over one aiohttp session, each
    answer read and parsed; no database, no pacing, no SDK."""
    import aiohttp

    url = f"{fake_url}/bot{TOKEN}/sendMessage"
    chats = iter(range(messages))
    sent = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=pool_size)) as session:

        async def worker() -> None:
            nonlocal sent
            for i in chats:
                form = {"chat_id": str(1_000_000_001 + i),
                        "text": f"bench message ({LANGUAGES[i % len(LANGUAGES)]})",
                        "link_preview_options": '{"is_disabled": true}'}
                async with session.post(url, data=form) as resp:
                    body = json.loads(await resp.read())
                if body.get("ok"):
                    sent += 1

        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"wall": wall, "cpu": cpu, "sent": sent}


def bench(db: str, messages: int, repeat: int, request: str,
          profile: str | None = None, baseline: bool = True) -> list[Any]:
    runs, loops = [], []
    with fresh_db(db) as url:
        for i in range(repeat):
            if i:
                clear_alerts(url)
            queue_telegram(url, messages, seed=i == 0)
            with fake_telegram_process() as (fake_url, stats):
                # The bare loop just before and just after the engine, against this one
                # fake process; the engine is compared with the mean of the two.
                before = run_child(bare_loop_child, fake_url, messages) if baseline else None
                r = run_child(child, url, fake_url, request,
                              profile and f"{profile}.{db}.{request}.{i}")
                if before is not None:
                    after = run_child(bare_loop_child, fake_url, messages)
                    loops.append({k: (before[k] + after[k]) / 2 for k in ("wall", "cpu")}
                                 | {"sent": min(before["sent"], after["sent"])})
            expected = messages * ((2 if baseline else 0) + (request != NO_HTTP))
            r["fake_sent"] = stats.get("sent", 0)
            if r["db_sent"] != messages or r["fake_sent"] != expected or \
                    (baseline and loops[-1]["sent"] != messages):
                print(f"  WARNING run {i + 1}: fake got {r['fake_sent']} of {expected}, ledger "
                      f"says {r['db_sent']} sent of {messages}", flush=True)
            runs.append(r)
            loop = (f"; bare aiohttp loop {messages / loops[-1]['wall']:,.0f} msg/s, "
                    f"{loops[-1]['cpu'] / messages * 1000:.2f} CPU s/1000 → ratio "
                    f"{loops[-1]['wall'] / r['wall']:.2f}") if baseline else ""
            print(f"  {request} run {i + 1}: {r['sent'] / r['wall']:,.0f} msg/s, "
                  f"{r['cpu'] / r['sent'] * 1000:.2f} CPU s/1000, {r['retried']} retried, "
                  f"{stats.get('requests', 0)} requests at the fake{loop}", flush=True)
    wall = median([r["wall"] for r in runs])
    cpu = median([r["cpu"] for r in runs])
    label = f"{db}, {request} request" + {
        "aiohttp": " (product)", "httpx": " (python-telegram-bot default)",
        SUGGESTED: " (suggested: answers not parsed)",
        NO_HTTP: " (no HTTP: dispatcher and ledger only)"}.get(request, "")
    loop_rate = messages / median([x["wall"] for x in loops]) if loops else float("nan")
    ratio = median([x["wall"] / r["wall"] for x, r in zip(loops, runs, strict=True)]) \
        if loops else float("nan")
    return [label, messages, repeat, wall, messages / wall, cpu, cpu / messages * 1000,
            median([r["rss_mb"] for r in runs]), loop_rate,
            median([x["cpu"] for x in loops]) / messages * 1000 if loops else float("nan"),
            ratio]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    ap.add_argument("--request", default="httpx,aiohttp",
                    help="PTB request backend(s): aiohttp (the product's, "
                         "channels/telegram_request.py), httpx (PTB's default), "
                         f"{SUGGESTED} (the product with the suggested change: answers "
                         f"not parsed into Message objects), {NO_HTTP} (no request at "
                         "all: what the dispatcher and the ledger cost), comma-separated")
    ap.add_argument("--no-baseline", dest="baseline", action="store_false",
                    help="skip the bare aiohttp loop (and the ratio)")
    ap.add_argument("--profile", metavar="PREFIX",
                    help="write cProfile stats of each dispatcher run to PREFIX.<db>.<run>")
    args = ap.parse_args()
    header("engine throughput: dispatcher → fake Telegram without limits")
    print(f"targets: ≥ {TARGET_RATIO} of a bare aiohttp loop's rate on this machine (and "
          f"≥ {TARGET:,.0f} messages/s as before); medians of {args.repeat} runs; fake server "
          f"in its own process; concurrency {CONCURRENCY} both", flush=True)
    rows = [bench(db, args.messages, args.repeat, request, args.profile, args.baseline)
            for db in args.db.split(",") for request in args.request.split(",")]
    print(table(["db", "messages", "runs", "wall s", "msg/s", "CPU s", "CPU s/1000 msg",
                 "RSS MB", "bare loop msg/s", "loop CPU s/1000", "ratio"], rows))
    for r in rows:
        verdict = f"verdict {r[0]}: {r[4]:,.0f} msg/s (≥ {TARGET:,.0f})"
        ok = r[4] >= TARGET
        if args.baseline:
            verdict += f", {r[10]:.2f} of the bare loop's {r[8]:,.0f} msg/s (≥ {TARGET_RATIO})"
            ok = r[10] >= TARGET_RATIO
        print(f"{verdict} → {'PASS' if ok else 'MISS'}")


if __name__ == "__main__":
    main()
