"""Fan-out (enqueue) benchmark: bot.store.fanout.write_deliveries against a raw-driver baseline.

N subscribers over sixteen languages, half on Telegram (one row per chat), half on
LINE (one row per ≤500 users of a language), plus X (one post per language). Each
measurement runs in a freshly spawned process: the product path inserts the alert
and calls write_deliveries in one transaction; the baseline inserts the same rows,
generated in Python, with sqlite3 executemany / psycopg COPY.

    .venv/bin/python bench/fanout.py --sizes 10000,100000 --db sqlite,postgres --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from common import (
    LANGUAGES,
    clear_alerts,
    db_time,
    fresh_db,
    header,
    is_pg,
    make_alert,
    median,
    rss_mb,
    run_child,
    seed_subscribers,
    subscriber,
    table,
)

TARGET_RATIO = 2.0
TARGET_RSS_MB = 300.0
COLUMNS = ("alert_id", "channel", "language", "recipients", "recipient_count", "status",
           "priority", "attempts", "next_attempt_at", "idempotency_key", "created_at",
           "updated_at")


def plans() -> dict[str, Any]:
    from bot.store.fanout import ChannelPlan
    from channels.registry import specs

    return {name: ChannelPlan(name=name, limits=s.limits, mode=s.fanout,
                              broadcast_languages=LANGUAGES if name == "x" else ())
            for name, s in specs().items()}


class _PerStatementOptions:
    """Connection proxy for the suggested fix of bot.store.fanout._batched: options given to
    ``conn.execution_options(...)`` apply to the next statement only, instead of
    switching the whole connection to server-side cursors (SQLAlchemy 2 modifies the
    Connection in place), which breaks the executemany INSERTs on PostgreSQL."""

    def __init__(self, conn: Any, **options: Any) -> None:
        self._conn, self._options = conn, options

    def execution_options(self, **options: Any) -> _PerStatementOptions:
        return _PerStatementOptions(self._conn, **options)

    def execute(self, statement: Any, *args: Any, **kw: Any) -> Any:
        if self._options:
            kw["execution_options"] = {**kw.get("execution_options", {}), **self._options}
        return self._conn.execute(statement, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def apply_suggested_patch() -> None:
    import bot.store.fanout

    original = bot.store.fanout._batched

    def _batched(conn: Any, *args: Any) -> int:
        return original(_PerStatementOptions(conn), *args)

    bot.store.fanout._batched = _batched  # type: ignore[assignment]


def product(url: str, patched: bool = False) -> dict[str, float]:
    """Child process: alert row + write_deliveries in one transaction."""
    from bot.db import make_engine
    from bot.domain import AlertStatus
    from bot.store.alerts import insert_alert
    from bot.store.fanout import write_deliveries

    if patched:
        apply_suggested_patch()
    engine = make_engine(url)
    channel_plans = plans()
    alert = make_alert()
    with engine.connect():
        pass  # open the pool's connection before measuring
    before = rss_mb()
    t0 = time.perf_counter()
    with engine.begin() as conn:
        alert_id = insert_alert(conn, alert, status=AlertStatus.QUEUED.value)
        counts = write_deliveries(conn, alert, alert_id, channel_plans)
    seconds = time.perf_counter() - t0
    peak = rss_mb()
    with engine.connect() as conn:  # count what is there: rowcount can be -1 (see README)
        rows = conn.execute(sa.text("SELECT count(*) FROM deliveries WHERE alert_id = :a"),
                            {"a": alert_id}).scalar_one()
    engine.dispose()
    return {"seconds": seconds, "rows": rows, "reported": sum(counts.values()),
            "rss_before": before, "rss_peak": peak}


def baseline_rows(alert_id: int, n: int, priority: int, pg: bool) -> Iterator[tuple[Any, ...]]:
    """The same delivery rows as the product writes, generated in Python, streamed."""
    stamp = db_time(dt.datetime.now(dt.UTC), pg)
    groups: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}

    def row(channel: str, lang: str, recipients: list[str], key: str) -> tuple[Any, ...]:
        return (alert_id, channel, lang, json.dumps(recipients), len(recipients), "pending",
                priority, 0, stamp, key, stamp, stamp)

    for i in range(1, n + 1):
        channel, uid, lang, _ = subscriber(i)
        if channel == "telegram":
            yield row("telegram", lang, [uid], f"{alert_id}-te-{i}")
            continue
        group = groups[lang]
        group.append(uid)
        if len(group) == 500:
            yield row("line", lang, group, str(uuid.uuid4()))
            groups[lang] = []
    for lang, group in groups.items():
        if group:
            yield row("line", lang, group, str(uuid.uuid4()))
    for lang in LANGUAGES:
        yield row("x", lang, ["timeline"], str(uuid.uuid4()))


def baseline(url: str, n: int) -> dict[str, float]:
    """Child process: the raw driver writes the same rows in one transaction."""
    from bot.db import make_engine
    from bot.domain import AlertStatus
    from bot.store.alerts import insert_alert

    engine = make_engine(url)
    alert = make_alert()
    with engine.begin() as conn:  # not measured: the product's alert insert is ~1 ms
        alert_id = insert_alert(conn, alert, status=AlertStatus.QUEUED.value)
    raw = engine.raw_connection()
    cur = raw.cursor()
    pg = is_pg(url)
    before = rss_mb()
    t0 = time.perf_counter()
    rows = 0
    if pg:
        with cur.copy(f"COPY deliveries ({', '.join(COLUMNS)}) FROM STDIN") as cp:
            for r in baseline_rows(alert_id, n, alert.priority, pg):
                cp.write_row(r)
                rows += 1
    else:
        def counted() -> Iterator[tuple[Any, ...]]:
            nonlocal rows
            for r in baseline_rows(alert_id, n, alert.priority, pg):
                rows += 1
                yield r
        cur.executemany(f"INSERT INTO deliveries ({', '.join(COLUMNS)}) VALUES "
                        f"({', '.join('?' * len(COLUMNS))})", counted())
    raw.commit()
    seconds = time.perf_counter() - t0
    raw.close()
    engine.dispose()
    return {"seconds": seconds, "rows": rows, "rss_before": before, "rss_peak": rss_mb()}


def bench(db: str, n: int, repeat: int) -> list[Any]:
    with fresh_db(db) as url:
        t0 = time.perf_counter()
        seed_subscribers(url, n)
        seeded = time.perf_counter() - t0
        prod: list[dict[str, float]] = []
        base: list[dict[str, float]] = []
        variant = "product"
        for _ in range(repeat):
            try:
                prod.append(run_child(product, url, variant == "patched"))
            except Exception as exc:  # the product path failed: say so, measure the fix
                print(f"  product FAILED on {db}: {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0]}\n  → measuring product + suggested patch "
                      "(bench/fanout.py _PerStatementOptions)", flush=True)
                variant = "patched"
                clear_alerts(url)
                prod.append(run_child(product, url, True))
            clear_alerts(url)
            base.append(run_child(baseline, url, n))
            clear_alerts(url)
    if prod[0]["rows"] != base[0]["rows"]:
        raise AssertionError(f"product wrote {prod[0]['rows']} rows, baseline {base[0]['rows']}")
    if prod[0]["reported"] != prod[0]["rows"]:
        print(f"  NOTE {db}: write_deliveries reported {prod[0]['reported']} rows, "
              f"wrote {prod[0]['rows']}", flush=True)
    p_s = median([r["seconds"] for r in prod])
    b_s = median([r["seconds"] for r in base])
    rows = int(prod[0]["rows"])
    label = db if variant == "product" else f"{db} (patched)"
    return [label, n, rows, round(seeded, 1), p_s, rows / p_s, b_s, rows / b_s, p_s / b_s,
            median([r["rss_before"] for r in prod]), median([r["rss_peak"] for r in prod]),
            median([r["rss_peak"] for r in base])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="comma-separated subscriber counts")
    ap.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = ap.parse_args()
    header("fan-out: write_deliveries vs raw driver (16 languages; telegram/line/x)")
    print(f"targets: at 1M subscribers product ≤ {TARGET_RATIO}× baseline seconds and peak "
          f"RSS < {TARGET_RSS_MB:.0f} MB; medians of {args.repeat} runs, each in a fresh "
          "process")
    rows = []
    for db in args.db.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            rows.append(bench(db, n, args.repeat))
            print(f"  done: {db} {n:,} subscribers", flush=True)
    print(table(["db", "subscribers", "rows", "seed s", "product s", "rows/s", "baseline s",
                 "base rows/s", "ratio", "RSS before MB", "RSS peak MB", "base RSS MB"],
                rows))
    for r in rows:
        ok = r[8] <= TARGET_RATIO and r[10] < TARGET_RSS_MB
        scope = "target" if r[1] >= 1_000_000 else "(target is set at 1M)"
        print(f"verdict {r[0]} {r[1]:,}: ratio {r[8]:.2f} (≤ {TARGET_RATIO}), peak RSS "
              f"{r[10]:.0f} MB (< {TARGET_RSS_MB:.0f}) → {'PASS' if ok else 'MISS'} {scope}")


if __name__ == "__main__":
    main()
