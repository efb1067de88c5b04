"""Operators' web console and /metrics under a large ledger: page latency over real
HTTP, the /metrics scrape, peak RSS, and the dispatcher's per-batch metric hook.

The database: ``--subscribers`` subscribers (60 % Telegram, 40 % LINE, 16 languages,
5 wards; seeded with the raw driver as the other benches do, not through
``bousai subscribers import``), then ``--alerts`` city notices accepted through
``Service.lifecycle.submit`` (the product's fan-out writes the delivery rows): the
first for every ward, the others for one ward each, so the ledger holds about three
rows per subscriber. *Simulated*: a send in progress, by bulk SQL on the ledger
(no dispatcher runs): of each alert's rows, 60 % ``sent`` (``sent_at``, one
attempt, a message id), 10 % ``failed`` (one attempt, a Telegram-like
``last_error``), the rest ``pending``; then ANALYZE.

Served by the real console (``bot.console.app.create_console``) through
``bot.web.serve`` (uvicorn) on a free loopback port in a thread of this process;
the client (httpx, one kept-alive connection, in this process) signs in as a viewer
made with ``bot.accounts.add`` (GET /login for the CSRF token, POST /login). Each
page gets one warm-up request, then ``--repeat`` requests (median and p95), in
``--rounds`` rounds; the table shows the median over rounds. Baseline: ``GET
/healthz`` through the same server; each page's ratio to it.

Hot path: :func:`bot.metrics.outcomes_recorded` (what the dispatcher calls after it
commits a batch) for 100 outcomes whose alert was already observed (no query: the
steady state), against calling a function that does nothing with the same
arguments; µs per outcome. Beside it, a batch whose alert is new (the one
acceptance-time query, once per alert and channel).

    .venv/bin/python bench/console.py --db sqlite,postgres --subscribers 100000 \\
        --alerts 20 --repeat 20 --rounds 3

Targets at 100,000 subscribers: each page p95 ≤ 500 ms; /metrics ≤ 250 ms (p95);
the metric hook ≤ 5 µs per outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from common import (
    LANGUAGES,
    WARDS,
    fresh_db,
    header,
    is_pg,
    median,
    rss_mb,
    seed_subscribers,
    table,
)

PAGE_P95_MS = 500.0
METRICS_MS = 250.0
HOOK_US = 5.0
LINE_SHARE = 0.4
SECRET = "bench-console-cookie-key-0123456789abcdef"  # only ever used on loopback
PASSWORD = "correct horse battery staple"  # a throwaway bench account
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
BATCH = 100


# ---------------------------------------------------------------- pure helpers

def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def verdicts(pages: dict[str, float], metrics_ms: float, hook_us: float) -> list[str]:
    """One line per target: page p95s (ms, by path), the /metrics p95, the hook."""
    out = []
    slow = {p: v for p, v in pages.items() if v > PAGE_P95_MS}
    worst = max(pages, key=lambda p: pages[p]) if pages else "-"
    out.append(f"pages p95 ≤ {PAGE_P95_MS:g} ms: "
               + ("PASS" if not slow else "FAIL (" + ", ".join(
                   f"{p} {v:.0f} ms" for p, v in slow.items()) + ")")
               + f"; slowest {worst} {pages.get(worst, float('nan')):.0f} ms")
    out.append(f"/metrics p95 ≤ {METRICS_MS:g} ms: {metrics_ms:.1f} ms "
               f"{'PASS' if metrics_ms <= METRICS_MS else 'FAIL'}")
    out.append(f"metric hook ≤ {HOOK_US:g} µs per outcome: {hook_us:.2f} µs "
               f"{'PASS' if hook_us <= HOOK_US else 'FAIL'}")
    return out


# ---------------------------------------------------------------- seeding

def make_service(url: str) -> Any:
    """The city's configuration with Telegram and LINE on (no tokens: nothing is
    asked of LINE), on ``url``."""
    from bot.config import Settings, load_config
    from bot.db import make_engine
    from bot.render import load_renderer
    from bot.service import Service, channel_plans

    config = load_config()
    channels = dict(config.channels)
    for name in ("telegram", "line"):
        channels[name] = dataclasses.replace(channels[name], enabled=True)
    config = dataclasses.replace(config, channels=channels)
    settings = Settings(database_url=url, secrets={}, base_urls={}, http_host="127.0.0.1",
                        http_port=0, log_format="text")
    return Service(config=config, settings=settings, engine=make_engine(url),
                   renderer=load_renderer(config), plans=channel_plans(config))


def notice(i: int, wards: tuple[str, ...]) -> Any:
    from bot.domain import Alert, Kind, Severity, Urgency

    return Alert(source="cli", source_id=f"bench-console-{i}-{uuid.uuid4().hex[:8]}",
                 kind=Kind.CITY_NOTICE, severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE,
                 wards=wards, body_ja=f"給水車が来ます（{i}）。",
                 texts={"en": f"A water truck is coming ({i})."},
                 issued=dt.datetime.now(dt.UTC))


def submit_alerts(svc: Any, n: int) -> list[int]:
    """``n`` notices accepted through the lifecycle: the first for every ward, the
    others for one ward each."""
    ids = []
    for i in range(n):
        wards = tuple(WARDS) if i == 0 else (WARDS[i % len(WARDS)],)
        ids.append(svc.lifecycle.submit(notice(i, wards), operator="bench",
                                        action="auto").id)
    return ids


def simulate_sending(url: str) -> dict[str, int]:
    """A send in progress, by bulk SQL: 60 % of the rows sent, 10 % failed, the rest
    pending (by row id, so every alert, channel and language has all three)."""
    from bot.db import make_engine

    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    stamp = now if is_pg(url) else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE deliveries SET status = 'sent', attempts = 1, sent_at = :now, "
            "updated_at = :now, provider_message_id = CAST(id AS VARCHAR(64)) "
            "WHERE status = 'pending' AND id % 10 < 6"), {"now": stamp})
        conn.execute(sa.text(
            "UPDATE deliveries SET status = 'failed', attempts = 1, updated_at = :now, "
            "last_error = 'Forbidden: bot was blocked by the user' "
            "WHERE status = 'pending' AND id % 10 = 6"), {"now": stamp})
        counts = dict(conn.execute(sa.text(
            "SELECT status, count(*) FROM deliveries GROUP BY status")).all())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return {str(k): int(v) for k, v in counts.items()}


# ---------------------------------------------------------------- the server

class Server:
    """The console app served by ``bot.web.serve`` in a thread with its own loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        from bot.web import serve

        async def go() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def listening(host: str, port: int) -> None:
                self.port = port
                self._ready.set()

            await serve(self.app, "127.0.0.1", 0, self._stop, listening=listening)

        try:
            asyncio.run(go())
        except BaseException as exc:  # reported to the caller
            self._error = exc
            self._ready.set()

    def __enter__(self) -> Server:
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"the console did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


def sign_in(client: Any, name: str) -> None:
    found = CSRF.search(client.get("/login").text)
    if not found:
        raise RuntimeError("no CSRF token on /login")
    r = client.post("/login", data={"csrf": found.group(1), "name": name,
                                    "password": PASSWORD, "next": "/"})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in refused: {r.status_code} {r.text[:200]}")


def time_get(client: Any, path: str, repeat: int) -> tuple[list[float], int]:
    """One warm-up, then ``repeat`` timed GETs (ms); the last body's size in bytes."""
    r = client.get(path)
    if r.status_code != 200:
        raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
    times = []
    size = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(path)
        size = len(r.content)
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path}: {r.status_code}")
    return times, size


def pages(alert_id: int) -> list[str]:
    return ["/", "/parts/now", f"/alerts/{alert_id}", f"/alerts/{alert_id}?status=failed",
            f"/map?alert={alert_id}", "/map", "/feeds", "/subscribers", "/metrics"]


# ---------------------------------------------------------------- the hook

def hook_cost(engine: sa.Engine, alert_id: int, calls: int) -> dict[str, float]:
    """µs per outcome of ``outcomes_recorded`` for a batch of :data:`BATCH` (alert
    already observed) over a do-nothing call; ms of a batch with a new alert."""
    from bot import metrics
    from bot.domain import DeliveryStatus
    from bot.store.deliveries import Outcome

    now = dt.datetime.now(dt.UTC)
    outcomes = [Outcome(id=i, status=DeliveryStatus.SENT if i % 10 else DeliveryStatus.PENDING,
                        sent_at=now if i % 10 else None, alert_id=alert_id,
                        language=LANGUAGES[i % len(LANGUAGES)], recipients=1)
                for i in range(BATCH)]
    seen = {(alert_id, "telegram")}

    def nothing(engine: sa.Engine, channel: str, outcomes: Sequence[Any],
                first_sent: set[tuple[int, str]]) -> None:
        return None

    def per_call(fn: Callable[..., None]) -> float:
        best = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn(engine, "telegram", outcomes, seen)
            best.append((time.perf_counter() - t0) / calls)
        return median(best)

    per_call(metrics.outcomes_recorded)  # warm the label children
    hook = per_call(metrics.outcomes_recorded)
    base = per_call(nothing)
    new = []
    for _ in range(20):
        t0 = time.perf_counter()
        metrics.outcomes_recorded(engine, "telegram", outcomes, set())
        new.append((time.perf_counter() - t0) * 1000)
    return {"hook_us": (hook - base) / BATCH * 1e6, "batch_us": hook * 1e6,
            "nothing_us": base * 1e6, "new_alert_ms": median(new)}


# ---------------------------------------------------------------- one database

def one_db(db: str, args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from bot import accounts
    from bot.console.app import create_console
    from bot.console.settings import ConsoleSettings

    with fresh_db(db) as url:
        t0 = time.perf_counter()
        seed_subscribers(url, args.subscribers, line_share=LINE_SHARE)
        seeded = time.perf_counter() - t0
        svc = make_service(url)
        t0 = time.perf_counter()
        ids = submit_alerts(svc, args.alerts)
        submitted = time.perf_counter() - t0
        ledger = simulate_sending(url)
        accounts.add(svc.engine, "bench", PASSWORD, accounts.Role.VIEWER)
        print(f"[{db}] seeded {args.subscribers:,} subscribers in {seeded:.1f} s; "
              f"{len(ids)} alerts accepted in {submitted:.1f} s; ledger "
              f"{sum(ledger.values()):,} rows {ledger}", flush=True)
        # the hook first: /metrics then carries the dispatcher's counter families too
        hook = hook_cost(svc.engine, ids[0], args.hook_calls)
        app = create_console(svc, ConsoleSettings(secret=SECRET))
        paths = pages(ids[0])
        rounds: list[dict[str, tuple[float, float]]] = []
        sizes: dict[str, int] = {}
        load0 = os.getloadavg()
        with Server(app) as server, httpx.Client(
                base_url=f"http://127.0.0.1:{server.port}", timeout=60,
                follow_redirects=False) as client:
            sign_in(client, "bench")
            for _ in range(args.rounds):
                got: dict[str, tuple[float, float]] = {}
                for path in ["/healthz", *paths]:
                    times, sizes[path] = time_get(client, path, args.repeat)
                    got[path] = (median(times), percentile(times, 0.95))
                rounds.append(got)
        load1 = os.getloadavg()
        svc.engine.dispose()
    figures = {p: (median([r[p][0] for r in rounds]), median([r[p][1] for r in rounds]))
               for p in rounds[0]}
    return {"figures": figures, "sizes": sizes, "ledger": sum(ledger.values()),
            "hook": hook, "rss": rss_mb(), "load": (load0, load1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--alerts", type=int, default=20, help="active alerts")
    ap.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds over every page; figures are medians over rounds")
    ap.add_argument("--hook-calls", type=int, default=2000)
    args = ap.parse_args()
    header("operators' console and /metrics under a large ledger")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for db in args.db.split(","):
        r = one_db(db, args)
        fig = r["figures"]
        base = fig["/healthz"][0]
        rows = [[db, path, f"{med:.1f}", f"{p95:.1f}", f"{med / base:.0f}" if base else "-",
                 r["sizes"][path]] for path, (med, p95) in fig.items()]
        print(f"\n[{db}] {args.subscribers:,} subscribers, {args.alerts} alerts, "
              f"{r['ledger']:,} ledger rows; {args.repeat} requests × {args.rounds} rounds "
              f"per page; load {r['load'][0][0]:.2f} → {r['load'][1][0]:.2f}")
        print(table(["db", "GET", "median ms", "p95 ms", "× /healthz", "bytes"], rows))
        h = r["hook"]
        print(f"metric hook: outcomes_recorded of {BATCH} outcomes {h['batch_us']:.1f} µs "
              f"(a do-nothing call {h['nothing_us']:.2f} µs): {h['hook_us']:.2f} µs per "
              f"outcome; a batch with a new alert (one query) {h['new_alert_ms']:.2f} ms")
        print(f"peak RSS of this process (server + client + seeding): {r['rss']:.0f} MB")
        page_p95 = {p: v[1] for p, v in fig.items() if p not in ("/healthz", "/metrics")}
        for line in verdicts(page_p95, fig["/metrics"][1], h["hook_us"]):
            print(f"verdict {db}: {line}")


if __name__ == "__main__":
    main()
