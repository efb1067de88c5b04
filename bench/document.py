"""Document to first message: a local feed server (bot/fakes/feeds.py) publishes a
JMA document; ``bousai run`` polls the feed every 2 s (the real APScheduler job,
conditional GET, parsing, policy, rendering in every language, fan-out) and its
dispatcher sends; the figure is the time from publication to the first request
at the fake Telegram, over 20 documents published at random moments of the poll
cycle. The fakes run in this process; ``bousai run`` in its own.

Each document is the sample 震源・震度に関する情報 (VXSE53) with 震度4 in 熊本東区 (so
the policy sends it at once: earthquake-intensity-4-or-more), its own EventID, and
every time in it moved to now (bot.fakes.dmdata.as_if_now), so each is a new,
current earthquake. The breakdown splits the time at the moment the alert row was
stored (alerts.created_at, wall clock): waiting for the poll plus fetching and
parsing, then rendering, fan-out and sending.

    .venv/bin/python bench/document.py --documents 20 --db sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import TOKEN, WARDS, fresh_db, header, median, seed_subscribers, table
from wakeup import sent_after, start_service, stop_service

from bot.config import DEFAULT_CONFIG_PATH

SAMPLE = (Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "jma"
          / "32-35_04_04_240613_VXSE53.xml")
CITY = ("<City><Name>熊本市</Name><Code>4320100</Code><MaxInt>1</MaxInt>",
        "<City><Name>熊本東区</Name><Code>4310200</Code><MaxInt>4</MaxInt>")


def document(n: int) -> bytes:
    from bot.fakes.dmdata import as_if_now

    xml = SAMPLE.read_bytes().replace(CITY[0].encode(), CITY[1].encode())
    xml = re.sub(rb"<EventID>\d+</EventID>",
                 f"<EventID>{20990201000000 + n}</EventID>".encode(), xml)
    return as_if_now(xml)


def config(folder: Path, feed_url: str, interval: float) -> Path:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    head, rest = text.split("# " + "-" * 72 + " feeds")
    rest = rest[rest.index("[http]"):]  # the shipped feeds out, one local feed in
    text = (head + f'[[feeds]]\nname = "bench-eqvol"\nkind = "jma"\nurl = "{feed_url}"\n'
            f"interval_seconds = {interval}\n\n" + rest)
    cfg = folder / "config"
    cfg.mkdir()
    (cfg / "data").symlink_to(DEFAULT_CONFIG_PATH.parent / "data", target_is_directory=True)
    (cfg / "bousai.toml").write_text(text, encoding="utf-8")
    return cfg / "bousai.toml"


def measure(url: str, documents: int, interval: float) -> list[tuple[float, float]]:
    """(publication → first request, publication → alert stored) in ms, per document."""
    from bot.fakes.feeds import FakeFeedServer
    from bot.fakes.telegram import FakeTelegram

    seed_subscribers(url, 32 * len(WARDS), channel="telegram")  # every ward
    out: list[tuple[float, float]] = []
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with tempfile.TemporaryDirectory(prefix="bousai-doc-") as tmp, \
            FakeTelegram(TOKEN) as fake, FakeFeedServer() as feeds:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOUSAI_", "TELEGRAM_"))}
        env |= {"BOUSAI_CONFIG": str(config(folder, f"{feeds.url}/feed.xml", interval)),
                "BOUSAI_DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.url, "BOUSAI_HTTP_PORT": "0",
                "XDG_DATA_HOME": str(folder / "data")}
        proc = start_service(env, folder / "run.log", "this process runs the feed scheduler",
                             url, feeds=True)
        try:
            while feeds.hits["/feed.xml"] < 1:
                time.sleep(0.05)
            for n in range(documents):
                time.sleep(interval + random.uniform(0, interval))  # a random poll phase
                before = len(fake.sent)
                body = document(n)
                wall, published = dt.datetime.now(dt.UTC), time.monotonic()
                feeds.publish(f"vxse53-{n}.xml", body)
                new = sent_after(fake, before)
                if not new:
                    raise RuntimeError("no message within 30 s:\n"
                                       + (folder / "run.log").read_text()[-3000:])
                first = (min(m.at for m in new) - published) * 1000
                with engine.connect() as conn:
                    stored = conn.execute(sa.text(
                        "SELECT created_at FROM alerts ORDER BY id DESC LIMIT 1")).scalar()
                if isinstance(stored, str):
                    stored = dt.datetime.fromisoformat(stored)
                if stored.tzinfo is None:
                    stored = stored.replace(tzinfo=dt.UTC)
                out.append((first, (stored - wall).total_seconds() * 1000))
                time.sleep(0.5)  # let the rest of the fan-out go (off the clock)
        finally:
            stop_service(proc)
            engine.dispose()
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 \
        else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents", type=int, default=20)
    ap.add_argument("--interval", type=float, default=2.0, help="the feed's poll interval")
    ap.add_argument("--db", default="sqlite", help="sqlite, postgres or both (comma-separated)")
    args = ap.parse_args()
    target = args.interval * 1000 + 300
    header("document to first message: feed publication → first request at the fake "
           "Telegram, through `bousai run`")
    print(f"target: p95 ≤ poll interval + 300 ms = {target:.0f} ms; {args.documents} "
          f"documents; feed interval {args.interval} s; load average "
          f"{os.getloadavg()[0]:.2f}")
    rows: list[list[Any]] = []
    for db in args.db.split(","):
        with fresh_db(db) as url:
            res = measure(url, args.documents, args.interval)
        first = [r[0] for r in res]
        stored = [r[1] for r in res]
        after = [a - b for a, b in res]
        rows.append([db, len(res), median(first), p95(first), max(first), median(stored),
                     median(after), p95(after)])
    print(table(["db", "docs", "median ms", "p95 ms", "max ms", "→ stored median",
                 "stored → sent median", "stored → sent p95"], rows))
    for r in rows:
        print(f"verdict {r[0]}: p95 {r[3]:.0f} ms (target ≤ {target:.0f}) → "
              f"{'PASS' if r[3] <= target else 'MISS'}")


if __name__ == "__main__":
    main()
