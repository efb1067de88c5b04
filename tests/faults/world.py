"""A world to break: fake Telegram and LINE servers behind fault proxies, a database
(optionally behind a proxy too, for PostgreSQL), subscribers, and real ``bousai run``
worker processes. Used by tests/faults (small scale) and bench/faults.py (full scale).

What is measured is what residents would see: every subscriber the fakes reached,
how many got the message more than once, against how many could (the recipients of
the rows in flight when the fault struck: a send whose answer never came back may
have arrived).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from bot.config import DEFAULT_CONFIG_PATH, Settings, load_config
from bot.db import make_engine, upgrade
from bot.db.schema import deliveries, leases
from bot.domain import Alert, Kind, Severity, Subscriber, Urgency
from bot.fakes.line import FakeLine
from bot.fakes.proxy import FaultProxy
from bot.fakes.telegram import FakeTelegram
from bot.render import load_renderer
from bot.service import Service, channel_plans
from bot.store import subscribers as sub_store

TG_TOKEN = "555:faults-token"
LINE_TOKEN = "faults-line-token"
HERE = Path(__file__).resolve().parent


@dataclasses.dataclass
class Result:
    scenario: str
    db: str
    subscribers: int
    lost: int
    duplicates: int
    allowed: int  # recipients of the rows in flight when the fault struck
    resumed_s: float | None  # fault over → first message accepted again
    done_s: float  # fault over (or start) → everyone reached
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates <= self.allowed


class World:
    def __init__(self, db_url: str, tmp: Path, *, telegram: int, line: int,
                 rate: float = 60.0, timeout: float = 2.0, db_proxy: bool = False,
                 tg_opts: dict[str, Any] | None = None,
                 line_opts: dict[str, Any] | None = None) -> None:
        self.db_url = db_url
        self.pg = db_url.startswith("postgresql")
        self.tmp = tmp
        self.n_tg, self.n_line = telegram, line
        self.rate, self.timeout = rate, timeout
        self.db_proxy = db_proxy and self.pg
        self.tg_opts, self.line_opts = tg_opts or {}, line_opts or {}
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self._stack = ExitStack()

    # ------------------------------------------------------------------ setup

    def __enter__(self) -> World:
        s = self._stack
        self.tg = s.enter_context(FakeTelegram(token=TG_TOKEN, **self.tg_opts))
        self.line = s.enter_context(FakeLine(token=LINE_TOKEN, **self.line_opts))
        self.tg_proxy = s.enter_context(FaultProxy("127.0.0.1", _port(self.tg.url)))
        self.line_proxy = s.enter_context(FaultProxy("127.0.0.1", _port(self.line.url)))
        self.service_url = self.db_url
        self.database_proxy: FaultProxy | None = None
        if self.db_proxy:
            u = sa.make_url(self.db_url)
            self.database_proxy = s.enter_context(FaultProxy(u.host or "127.0.0.1",
                                                             u.port or 5432))
            self.service_url = u.set(host="127.0.0.1", port=self.database_proxy.port
                                     ).render_as_string(hide_password=False)
        elif not self.pg:
            # A write waits 1 s for a lock before the service counts the database away.
            self.service_url = f"{self.db_url}?timeout=1"
        self.engine = make_engine(self.db_url)
        s.callback(self.engine.dispose)
        upgrade(self.engine)
        self.config_path = self._write_config()
        self.config = load_config(self.config_path)
        self._seed()
        return self

    def __exit__(self, *exc: object) -> None:
        for w in self.workers:
            if w.poll() is None:
                w.kill()
                w.wait(10)
        self._stack.close()

    def _write_config(self) -> Path:
        text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
        text = text.split("# " + "-" * 72 + " feeds")[0]  # no feeds: nothing to reach
        text = text.replace("messages_per_second = 30",
                            f"messages_per_second = {self.rate:g}\n"
                            f"timeout_seconds = {self.timeout:g}")
        text = text.replace("[channels.line]\nenabled = false",
                            f"[channels.line]\nenabled = true\ntimeout_seconds = {self.timeout:g}")
        text = text.replace("backoff_base_seconds = 2.0", "backoff_base_seconds = 0.2")
        text = text.replace("backoff_max_seconds = 300.0", "backoff_max_seconds = 2.0")
        text = text.replace("pause_max_seconds = 30", "pause_max_seconds = 2")
        folder = self.tmp / "config"
        folder.mkdir(exist_ok=True)
        data = folder / "data"
        if not data.exists():
            data.symlink_to(DEFAULT_CONFIG_PATH.parent / "data", target_is_directory=True)
        path = folder / "bousai.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def _seed(self) -> None:
        langs = self.config.languages
        wards = self.config.ward_codes
        subs = [Subscriber(channel="telegram", user_id=str(800000 + i),
                           language=langs[i % len(langs)], wards=(wards[i % len(wards)],))
                for i in range(self.n_tg)]
        subs += [Subscriber(channel="line", user_id=f"U{i:032x}",
                            language=langs[i % len(langs)], wards=(wards[i % len(wards)],))
                 for i in range(self.n_line)]
        with self.engine.begin() as conn:
            sub_store.import_batch(conn, subs)
        self.tg_ids = {s.user_id for s in subs if s.channel == "telegram"}
        self.line_ids = {s.user_id for s in subs if s.channel == "line"}

    def issue(self) -> int:
        """An alert for everyone, through the product's lifecycle (rendered, queued)."""
        settings = Settings(database_url=self.db_url, secrets={}, base_urls={},
                            http_host="127.0.0.1", http_port=0, log_format="text")
        svc = Service(config=self.config, settings=settings, engine=self.engine,
                      renderer=load_renderer(self.config), plans=channel_plans(self.config))
        alert = Alert(source="cli", source_id=str(uuid.uuid4()), kind=Kind.CITY_NOTICE,
                      severity=Severity.SEVERE, urgency=Urgency.IMMEDIATE,
                      wards=self.config.ward_codes, body_ja="給水車が来ます。",
                      texts={"en": "A water truck is coming."}, issued=dt.datetime.now(dt.UTC))
        return svc.lifecycle.submit(alert, operator="faults", action="auto").id

    # ---------------------------------------------------------------- workers

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TELEGRAM_", "LINE_", "X_API", "X_ACCESS", "BOUSAI_"))}
        return env | {
            "BOUSAI_CONFIG": str(self.config_path), "BOUSAI_DATABASE_URL": self.service_url,
            "BOUSAI_HTTP_PORT": "0", "BOUSAI_OPERATOR": "faults",
            "TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_API_BASE_URL": _url(self.tg_proxy),
            "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN, "LINE_CHANNEL_SECRET": "faults-secret",
            "LINE_API_BASE_URL": _url(self.line_proxy), "XDG_DATA_HOME": str(self.tmp / "xdg"),
        }

    def start(self, *, clock_offset: float = 0.0,
              extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        args = ["run", "--no-poll-feeds"]
        cmd = ([sys.executable, str(HERE / "skewed.py"), f"{clock_offset:g}", *args]
               if clock_offset else [sys.executable, "-m", "bot.cli", *args])
        log = self.tmp / f"worker-{len(self.workers)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, env=self.env() | (extra or {}), stdout=out,
                                    stderr=subprocess.STDOUT)
        self.workers.append(proc)
        self.logs.append(log)
        return proc

    def started(self, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
        """Wait until ``proc`` runs (its signal handlers are in place)."""
        log = self.logs[self.workers.index(proc)]
        self.wait(lambda: "running with channels" in log.read_text(errors="replace"),
                  timeout, "a worker to start")

    def terminate(self, proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
        """SIGTERM, and the exit code."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout)

    def log_text(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in self.logs)

    # ---------------------------------------------------------------- reading

    def tg_counts(self) -> Counter[str]:
        with self.tg.lock:
            return Counter(m.chat_id for m in self.tg.sent)

    def line_counts(self) -> Counter[str]:
        got: Counter[str] = Counter()
        for r in self.line.accepted:
            got.update(r.delivered_to or r.to)
        return got

    def delivered(self) -> int:
        """Messages accepted so far (both platforms, per recipient)."""
        return sum(self.tg_counts().values()) + sum(self.line_counts().values())

    def reached(self) -> tuple[int, int]:
        """(subscribers not reached, duplicate copies)."""
        tg, ln = self.tg_counts(), self.line_counts()
        lost = len(self.tg_ids - set(tg)) + len(self.line_ids - set(ln))
        dups = sum(n - 1 for n in tg.values()) + sum(n - 1 for n in ln.values())
        return lost, dups

    def in_flight_ids(self) -> set[int]:
        """Rows in flight now (claimed, outcome not yet recorded)."""
        with self.engine.connect() as conn:
            return {int(i) for (i,) in conn.execute(sa.select(deliveries.c.id).where(
                deliveries.c.status == "in_flight"))}

    def allowed(self, at_fault: set[int]) -> int:
        """Recipients of the rows in flight at the fault: those in flight when it struck,
        and those whose send went out into it unanswered (the ledger marks them:
        ``timeouts`` > 0). Each may reach its recipients twice, no more."""
        d = deliveries
        with self.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(d.c.recipient_count), 0))
                             .where(sa.or_(d.c.id.in_(at_fault), d.c.timeouts > 0))
                             ).scalar_one()
        return int(n)

    def statuses(self) -> Counter[str]:
        with self.engine.connect() as conn:
            return Counter({str(s): int(n) for s, n in conn.execute(
                sa.select(deliveries.c.status, sa.func.count()).where(
                    deliveries.c.channel.in_(("telegram", "line"))).group_by(
                    deliveries.c.status))})

    def lease_holders(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {str(n): str(h) for n, h in conn.execute(
                sa.select(leases.c.name, leases.c.holder))}

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> float:
        """Seconds until ``predicate`` holds; AssertionError after ``timeout``."""
        t0 = time.monotonic()
        while not predicate():
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; "
                                     f"ledger {dict(self.statuses())}\n{self.log_text()[-3000:]}")
            for w in self.workers:
                if w.poll() is not None and w.returncode not in (0, -9, -15):
                    raise AssertionError(f"a worker exited with {w.returncode} while "
                                         f"waiting for {what}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)
        return time.monotonic() - t0

    def everyone(self) -> bool:
        return self.reached()[0] == 0


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def _url(proxy: FaultProxy) -> str:
    return f"http://127.0.0.1:{proxy.port}"

