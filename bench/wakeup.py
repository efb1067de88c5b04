"""Cross-process latency: ``bousai alert issue --yes`` in one process, ``bousai run``
in another, idle; from the CLI's commit to the first request reaching the fake
Telegram. The wake-up is PostgreSQL NOTIFY, or on SQLite the loopback request to
the service's web server (bot/wakeup.py).

"Accept" is the moment the CLI's transaction that wrote the delivery rows
committed: bench/commit_clock.py runs the unchanged CLI and prints
``time.monotonic()`` right after the driver's COMMIT returned. The fake runs in
this process; on Linux ``time.monotonic()`` is one clock for all processes. The
CLI's start-up, rendering and translation come before the commit and are not in
the figure. The service runs with the product's default poll (0.2 s), or
``--poll-interval``: with 5 s any figure near the poll would show the wake failed.

    .venv/bin/python bench/wakeup.py --alerts 20 --db sqlite,postgres
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import TOKEN, fresh_db, header, median, seed_subscribers, table

from bot.config import DEFAULT_CONFIG_PATH

TARGET_MS = 20.0
BENCH = Path(__file__).resolve().parent


def config(folder: Path, poll: float) -> Path:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace("poll_interval_seconds = 0.2", f"poll_interval_seconds = {poll}")
    text = text.replace("two_person_rule = true", "two_person_rule = false")
    text = text.split("# " + "-" * 72 + " feeds")[0]  # no feeds
    cfg = folder / "config"
    cfg.mkdir()
    (cfg / "data").symlink_to(DEFAULT_CONFIG_PATH.parent / "data", target_is_directory=True)
    (cfg / "bousai.toml").write_text(text, encoding="utf-8")
    return cfg / "bousai.toml"


def start_service(env: dict[str, str], log: Path, ready: str, url: str, *,
                  feeds: bool = False) -> subprocess.Popen[bytes]:
    """``bousai run`` in its own process, once it listens for wake-ups and holds the
    Telegram lease."""
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run",
                             "--poll-feeds" if feeds else "--no-poll-feeds"],
                            env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    deadline = time.monotonic() + 60
    ready_ok = False
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("bousai run exited:\n" + log.read_text()[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError("bousai run did not get ready:\n" + log.read_text()[-3000:])
            if ready in log.read_text(errors="replace"):
                with engine.connect() as conn:
                    if conn.execute(sa.text("SELECT holder FROM leases WHERE name = "
                                            "'channel:telegram'")).scalar():
                        ready_ok = True
                        return proc
            time.sleep(0.05)
    finally:
        engine.dispose()
        if not ready_ok:
            stop_service(proc)  # never leave a service behind


def sent_after(fake: Any, before: int, timeout: float = 30.0) -> list[Any]:
    """The messages the fake received after its first ``before``, once there is one
    (empty after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while len(fake.sent) <= before and time.monotonic() < deadline:
        time.sleep(0.002)
    with fake.lock:
        return list(fake.sent[before:])


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def measure(url: str, alerts: int, poll: float) -> list[float]:
    from bot.fakes.telegram import FakeTelegram

    seed_subscribers(url, 5, channel="telegram")
    out: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bousai-wake-") as tmp, \
            FakeTelegram(TOKEN) as fake:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOUSAI_", "TELEGRAM_"))}
        env |= {"BOUSAI_CONFIG": str(config(folder, poll)), "BOUSAI_DATABASE_URL": url,
                "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url,
                "BOUSAI_HTTP_PORT": "0", "BOUSAI_OPERATOR": "bench",
                "XDG_DATA_HOME": str(folder / "data")}
        proc = start_service(env, folder / "run.log", "other processes wake this one", url)
        try:
            for i in range(alerts):
                time.sleep(random.uniform(0.3, 0.7))  # idle, at a random poll phase
                before = len(fake.sent)
                cli = subprocess.run(
                    [sys.executable, str(BENCH / "commit_clock.py"), "alert", "issue",
                     "--kind", "city_notice", "--ward", "43101",
                     "--text-ja", f"給水車が来ます（{i}）。",
                     "--text-en", "A water truck is coming.", "--yes"],
                    env=env, capture_output=True, text=True, timeout=120)
                found = re.findall(r"COMMIT_AT ([0-9.]+)", cli.stderr)
                if cli.returncode != 0 or not found:
                    raise RuntimeError(f"bousai alert issue failed:\n{cli.stderr[-2000:]}")
                committed = float(found[-1])
                new = sent_after(fake, before)
                if not new:
                    raise RuntimeError("no message reached the fake within 30 s")
                out.append((min(m.at for m in new) - committed) * 1000)
        finally:
            stop_service(proc)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alerts", type=int, default=20)
    ap.add_argument("--poll-interval", type=float, default=0.2,
                    help="the service's delivery.poll_interval_seconds (default 0.2)")
    ap.add_argument("--db", default="sqlite,postgres",
                    help="sqlite, postgres or both (comma-separated)")
    args = ap.parse_args()
    header("cross-process latency: `bousai alert issue --yes` commits → first request at "
           "the fake Telegram, `bousai run` in another process")
    print(f"target: median < {TARGET_MS:.0f} ms; {args.alerts} alerts; poll interval "
          f"{args.poll_interval} s; load average {os.getloadavg()[0]:.2f}")
    rows: list[list[Any]] = []
    for db in args.db.split(","):
        with fresh_db(db) as url:
            ms = measure(url, args.alerts, args.poll_interval)
        p90 = statistics.quantiles(ms, n=10, method="inclusive")[-1] if len(ms) > 1 else ms[0]
        rows.append([db, len(ms), median(ms), min(ms), p90, max(ms)])
    print(table(["db", "alerts", "median ms", "min ms", "p90 ms", "max ms"], rows))
    for r in rows:
        print(f"verdict {r[0]}: median {r[2]:.1f} ms (target < {TARGET_MS:.0f}) → "
              f"{'PASS' if r[2] < TARGET_MS else 'MISS'}")


if __name__ == "__main__":
    main()
