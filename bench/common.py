"""Shared helpers for the benchmarks: machine info, medians, throwaway databases,
seeding, alerts, fake servers in a child process, and running a measurement in
a fresh (spawned) process."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from bot.config import load_config
from bot.db import make_engine, upgrade
from bot.domain import ALL_KINDS_MASK, Alert, AlertStatus, Kind, Severity, Urgency

PG_URL = os.environ.get("BOUSAI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_CONFIG = load_config()  # the city's languages and wards (config/bousai.toml)
LANGUAGES = _CONFIG.languages
WARDS = _CONFIG.ward_codes
TOKEN = "900000:BENCH-token"  # only ever sent to a local fake server


# ---------------------------------------------------------------- reporting

def machine() -> str:
    return (f"{os.cpu_count()} cores (os.cpu_count), {platform.machine()}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def product_version() -> str:
    """The commit of the code under test, and whether bot/ or channels/ differ from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "bot", "channels"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}{' + uncommitted changes in bot/ or channels/' if dirty else ''}"


def header(title: str) -> None:
    print(f"== {title}")
    print(f"machine: {machine()}")
    print(f"product: {product_version()}")
    print(f"date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")


# ---------------------------------------------------------------- databases

@contextlib.contextmanager
def fresh_db(kind: str) -> Iterator[str]:
    """A URL of a new, migrated database: a SQLite file in a temporary directory,
    or a fresh PostgreSQL schema (dropped at the end)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bousai-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            _migrate(url)
            yield url
        return
    if kind != "postgres":
        raise ValueError(f"unknown database {kind!r}")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
        _migrate(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def is_pg(url: str) -> bool:
    return url.startswith("postgresql")


def db_time(value: dt.datetime, pg: bool) -> Any:
    """A UTC datetime as the product stores it (SQLite: naive ISO text)."""
    return value if pg else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# ---------------------------------------------------------------- seeding

def subscriber(i: int, line_share: float = 0.5) -> tuple[str, str, str, str]:
    """Deterministic subscriber ``i`` (1-based): (channel, user_id, language, ward)."""
    line = int(i * line_share) != int((i - 1) * line_share)  # spread evenly
    lang = LANGUAGES[(i // 2) % len(LANGUAGES)]
    ward = WARDS[(i // 32) % len(WARDS)]
    if line:
        return "line", f"U{i:032x}", lang, ward
    return "telegram", str(1_000_000_000 + i), lang, ward


def seed_subscribers(url: str, n: int, *, line_share: float = 0.5,
                     channel: str | None = None) -> dict[str, int]:
    """Insert ``n`` subscribers (ids 1..n) and one ward each with the raw driver
    (COPY on PostgreSQL, executemany on SQLite). ``channel`` forces one channel."""
    engine = make_engine(url)
    pg = is_pg(url)
    now = db_time(dt.datetime.now(dt.UTC), pg)
    counts: dict[str, int] = {}

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(1, n + 1):
            ch, uid, lang, _ = subscriber(i, line_share)
            ch = channel or ch
            counts[ch] = counts.get(ch, 0) + 1
            yield (i, ch, uid, lang, ALL_KINDS_MASK, 0, False, True, now, now)

    cols = ("id, channel, user_id, language, kinds_mask, min_severity, test, active, "
            "created_at, updated_at")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if pg:
            with cur.copy(f"COPY subscribers ({cols}) FROM STDIN") as cp:
                for r in rows():
                    cp.write_row(r)
            with cur.copy("COPY subscriber_wards (subscriber_id, ward) FROM STDIN") as cp:
                for i in range(1, n + 1):
                    cp.write_row((i, subscriber(i, line_share)[3]))
            cur.execute("SELECT setval(pg_get_serial_sequence('subscribers', 'id'), %s)",
                        (n,))
        else:
            cur.executemany(f"INSERT INTO subscribers ({cols}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                            rows())
            cur.executemany("INSERT INTO subscriber_wards (subscriber_id, ward) VALUES (?, ?)",
                            ((i, subscriber(i, line_share)[3]) for i in range(1, n + 1)))
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return counts


def make_alert(**kw: Any) -> Alert:
    values: dict[str, Any] = {
        "source": "bench", "source_id": f"bench-{uuid.uuid4().hex}", "kind": Kind.EARTHQUAKE,
        "severity": Severity.SEVERE, "urgency": Urgency.IMMEDIATE, "wards": WARDS,
        "headline_ja": "地震情報（ベンチマーク）", "body_ja": "熊本地方で強い揺れ。",
        "issued": dt.datetime.now(dt.UTC), "status": AlertStatus.QUEUED,
    }
    values.update(kw)
    return Alert(**values)


def clear_alerts(url: str) -> None:
    """Remove every alert, rendering and delivery (between measurements)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if is_pg(url):
            conn.execute(sa.text("TRUNCATE deliveries, renderings, audit_log, alerts CASCADE"))
        else:
            for t in ("deliveries", "renderings", "audit_log", "alerts"):
                conn.execute(sa.text(f"DELETE FROM {t}"))
    if is_pg(url):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE deliveries"))
    engine.dispose()


def queue_telegram(url: str, n: int, *, text: str = "bench message", seed: bool = True) -> int:
    """``n`` Telegram subscribers (unless ``seed`` is False: already there) and one
    alert with a delivery row for each, written by the product fan-out; renderings
    are one short part per language."""
    from bot.db.schema import renderings
    from bot.store.alerts import insert_alert
    from bot.store.fanout import PER_RECIPIENT, ChannelPlan, write_deliveries
    from channels.registry import spec

    if seed:
        seed_subscribers(url, n, channel="telegram")
    alert = make_alert()
    plan = ChannelPlan(name="telegram", limits=spec("telegram").limits, mode=PER_RECIPIENT)
    engine = make_engine(url)
    with engine.begin() as conn:
        alert_id = insert_alert(conn, alert, status=AlertStatus.QUEUED.value)
        conn.execute(sa.insert(renderings), [
            {"alert_id": alert_id, "language": lang, "channel": "telegram",
             "parts": [f"{text} ({lang})"], "machine_translated": False}
            for lang in LANGUAGES])
        write_deliveries(conn, alert, alert_id, {"telegram": plan})
    engine.dispose()
    return alert_id


# ------------------------------------------------------- child processes

def run_child(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func(*args)`` in a freshly spawned interpreter; return its result."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(func, args)


def _fake_telegram_main(conn: Any, kw: dict[str, Any]) -> None:
    from bot.fakes.telegram import FakeTelegram

    fake = FakeTelegram(TOKEN, **kw).start()
    conn.send(fake.url)
    conn.recv()  # wait for "stop"
    with fake.lock:
        stats = {"sent": len(fake.sent), "too_many": fake.too_many,
                 "requests": len(fake.requests),
                 "first_at": fake.sent[0].at if fake.sent else None,
                 "last_at": fake.sent[-1].at if fake.sent else None}
    fake.stop()
    conn.send(stats)


@contextlib.contextmanager
def fake_telegram_process(**kw: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """A FakeTelegram in its own process (its CPU is not ours). Yields (url, stats);
    ``stats`` is filled when the block ends: sent, too_many, requests, first_at,
    last_at (the child's monotonic clock, which is the same clock on Linux)."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_fake_telegram_main, args=(theirs, kw), daemon=True)
    proc.start()
    stats: dict[str, Any] = {}
    try:
        if not ours.poll(30):
            raise RuntimeError("fake Telegram did not start")
        yield ours.recv(), stats
    finally:
        with contextlib.suppress(BrokenPipeError, EOFError):
            ours.send("stop")
            if ours.poll(30):
                stats.update(ours.recv())
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def telegram_channel(base_url: str, rate: float | None, request: str = "httpx") -> Any:
    """The product's TelegramChannel with its request backend: "aiohttp" (the
    product's default) or "httpx" (python-telegram-bot's default, for comparison)."""
    from channels.base import with_rate
    from channels.telegram import TelegramChannel

    return TelegramChannel(TOKEN, base_url=base_url, request_backend=request,
                           limits=with_rate(TelegramChannel.spec.limits, rate))


async def dispatch_all(url: str, base_url: str, rate: float | None,
                       request: str = "httpx") -> dict[str, float]:
    """Run a Dispatcher over the Telegram queue until idle; wall and CPU seconds."""
    from bot.dispatcher import Dispatcher

    engine = make_engine(url)
    channel = telegram_channel(base_url, rate, request)
    await channel.start()
    dispatcher = Dispatcher(engine, {"telegram": channel}, lease_ttl=30.0)
    cpu0, t0 = time.process_time(), time.perf_counter()
    await dispatcher.run(until_idle=True)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await channel.close()
    st = dispatcher.states["telegram"]
    with engine.connect() as conn:
        by_status = dict(conn.execute(sa.text(
            "SELECT status, count(*) FROM deliveries GROUP BY status")).all())
    engine.dispose()
    return {"wall": wall, "cpu": cpu, "sent": st.sent, "retried": st.retried,
            "failed": st.failed, "db_sent": by_status.get("sent", 0), "rss_mb": rss_mb()}
