"""X budget: what counting posts from the ledger adds to accepting an alert.

The ledger holds a year of X posts (``--alerts-per-day`` alerts a day, two languages,
a thread of two parts now and then, sent times spread over 365 days) beside
``--rows`` Telegram delivery rows. Measured, each the median of ``--repeat`` runs:

- ``ledger count``: :func:`bot.xbudget.spent` (day, month and 24-hour windows,
  queued posts);
- ``budget check``: what the lifecycle runs inside the accepting transaction (the
  lock, the ledger count, the allotment of a two-language notice);
- ``whole accept``: ``Lifecycle.submit`` of the same prepared city notice (the
  Telegram subscribers are inactive: renderings, X rows, audit), for scale.

    .venv/bin/python bench/xbudget.py --db sqlite,postgres --rows 200000 --repeat 20

Target: the budget check ≤ 10 ms per accept (median), with a year of posts.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import time
import uuid
from typing import Any

import sqlalchemy as sa
from common import fresh_db, header, is_pg, median, queue_telegram, table

TARGET_MS = 10.0


def seed_x_year(url: str, per_day: int) -> int:
    """A year of X posts: alerts, their X renderings and sent delivery rows."""
    from bot.db import make_engine
    from bot.db.schema import alerts, deliveries, renderings

    rnd = random.Random(16)
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(url)
    n = 0
    with engine.begin() as conn:
        for day in range(365):
            alert_rows = []
            for k in range(per_day):
                at = now - dt.timedelta(days=day, seconds=rnd.uniform(0, 86400))
                alert_rows.append({
                    "source": "bench", "source_id": f"x-{day}-{k}-{uuid.uuid4().hex[:8]}",
                    "kind": "city_notice", "msg_type": "alert", "severity": 2, "urgency": 1,
                    "priority": 5, "wards": [], "areas": [], "headline_ja": "",
                    "body_ja": "bench", "texts": {}, "params": {}, "issued": at,
                    "status": "finished", "test": False, "in_jurisdiction": True,
                    "created_by": "bench", "created_at": at, "updated_at": at})
            ids = [r[0] for r in conn.execute(
                sa.insert(alerts).returning(alerts.c.id, sort_by_parameter_order=True),
                alert_rows)]
            rend, deliv = [], []
            for alert_id, row in zip(ids, alert_rows, strict=True):
                for lang in ("ja-easy", "en"):
                    parts = ["part one", "part two"] if rnd.random() < 0.2 else ["a post"]
                    rend.append({"alert_id": alert_id, "language": lang, "channel": "x",
                                 "parts": parts, "machine_translated": False})
                    deliv.append({
                        "alert_id": alert_id, "channel": "x", "language": lang,
                        "recipients": ["timeline"], "recipient_count": 1, "status": "sent",
                        "priority": 5, "attempts": 1, "next_attempt_at": row["issued"],
                        "message_ids": [str(rnd.getrandbits(60)) for _ in parts],
                        "idempotency_key": str(uuid.uuid4()), "created_at": row["issued"],
                        "sent_at": row["issued"], "updated_at": row["issued"]})
                    n += 1
            conn.execute(sa.insert(renderings), rend)
            conn.execute(sa.insert(deliveries), deliv)
    if is_pg(url):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return n


def quiet_subscribers(url: str) -> None:
    """The Telegram rows stay in the ledger; their subscribers take no new alerts, so
    an accept writes the renderings and the X rows only."""
    from bot.db import make_engine
    from bot.db.schema import subscribers

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(subscribers).values(active=False))
    engine.dispose()


def build_service(url: str, with_x: bool) -> Any:
    from bot.config import ChannelSettings, Settings, load_config
    from bot.db import make_engine
    from bot.render import load_renderer
    from bot.service import Service, channel_plans

    config = load_config()
    x = ChannelSettings(name="x", enabled=with_x, options={
        "languages": ["ja-easy", "en"], "price_per_post": 0.015,
        "price_per_post_with_url": 0.2, "daily_budget": 1000.0, "monthly_budget": 10000.0})
    channels = {"telegram": ChannelSettings(name="telegram", enabled=True, options={}),
                "x": x}
    config = dataclasses.replace(config, channels=channels)
    settings = Settings(database_url=url, secrets={}, base_urls={}, http_host="127.0.0.1",
                        http_port=0, log_format="text")
    return Service(config=config, settings=settings, engine=make_engine(url),
                   renderer=load_renderer(config), plans=channel_plans(config))


def notice() -> Any:
    from bot.domain import Alert, Kind, Severity, Urgency

    return Alert(source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
                 severity=Severity.MODERATE, urgency=Urgency.EXPECTED, wards=(),
                 body_ja="断水のお知らせ。", texts={"en": "Water outage notice."},
                 issued=dt.datetime.now(dt.UTC))


def measure(url: str, repeat: int) -> dict[str, float]:
    """Medians in ms: the budget check as the lifecycle runs it inside the accepting
    transaction (lock, ledger count, allotment), and a whole accept for scale."""
    from bot import xbudget
    from bot.store import deliveries as ledger

    out: dict[str, list[float]] = {"check": [], "spent": [], "accept": []}
    svc = build_service(url, True)
    plan = svc.plans["x"]
    for _ in range(repeat):
        prepared = svc.lifecycle.prepare(notice())
        with svc.engine.begin() as conn:
            t0 = time.perf_counter()
            ledger.lock_posts(conn, "x")
            t1 = time.perf_counter()
            spent = xbudget.spent(conn, svc.config)
            t2 = time.perf_counter()
            xbudget.allot(svc.config, spent, xbudget.parts_by_language(
                prepared, plan.broadcast_languages))
            t3 = time.perf_counter()
        out["check"].append((t3 - t0) * 1000)
        out["spent"].append((t2 - t1) * 1000)
        t0 = time.perf_counter()
        svc.lifecycle.submit(prepared, operator="bench")
        out["accept"].append((time.perf_counter() - t0) * 1000)
    svc.engine.dispose()
    return {k: median(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--rows", type=int, default=200_000, help="Telegram delivery rows")
    ap.add_argument("--alerts-per-day", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    header("x budget: counting posts from the ledger at accept")
    rows, verdicts = [], []
    for db in args.db.split(","):
        with fresh_db(db) as url:
            queue_telegram(url, args.rows)
            quiet_subscribers(url)
            x_rows = seed_x_year(url, args.alerts_per_day)
            m = measure(url, args.repeat)
        rows.append([db, args.rows, x_rows, f"{m['spent']:.2f}", f"{m['check']:.2f}",
                     f"{m['accept']:.1f}", f"{m['check'] / m['accept']:.3f}"])
        verdicts.append((db, m["check"]))
    print(table(["db", "telegram rows", "x rows (a year)", "ledger count ms",
                 "budget check ms", "whole accept ms", "check / accept"], rows))
    for db, check in verdicts:
        print(f"verdict {db}: the budget check takes {check:.2f} ms per accept "
              f"(target ≤ {TARGET_MS:g} ms): {'PASS' if check <= TARGET_MS else 'FAIL'}")

if __name__ == "__main__":
    main()
