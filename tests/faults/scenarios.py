"""The fault scenarios, each on a fresh :class:`~tests.faults.world.World`: start
``bousai run``, strike while it is sending, end the fault, wait until everyone is
reached, stop the workers with SIGTERM (they must exit 0, cleanly), and count.

``Scale`` sets the sizes and durations: tests/faults runs them small, bench/faults.py
at full scale (1,500 Telegram and 300 LINE subscribers, a 4-minute outage ...).
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.faults.world import Result, World


@dataclass(frozen=True)
class Scale:
    telegram: int = 150
    line: int = 30
    rate: float = 60.0  # Telegram messages per second
    refused_s: float = 4.0  # platform refusing connections
    frozen_s: float = 4.0  # platform frozen
    database_s: float = 4.0  # database locked or cut
    timeout: float = 2.0  # the channels' timeout_seconds
    patience: float = 90.0  # how long to wait for everyone to be reached


def _strike_at(world: World, share: float = 0.25) -> None:
    """Wait until a share of the subscribers has the message, so the fault meets a
    fan-out in full flight."""
    total = world.n_tg + world.n_line
    world.wait(lambda: world.delivered() >= total * share, 180, "the fan-out to get going")


def _finish(world: World, name: str, at_fault: set[int], fault_end: float,
            delivered_at_end: int, patience: float, note: str = "") -> Result:
    resumed: float | None = None
    t0 = time.monotonic()
    while not world.everyone():
        if resumed is None and world.delivered() > delivered_at_end:
            resumed = time.monotonic() - fault_end
        if time.monotonic() - t0 > patience:
            break
        time.sleep(0.05)
    if resumed is None and world.delivered() > delivered_at_end:
        resumed = time.monotonic() - fault_end
    done = time.monotonic() - fault_end
    lost, dups = world.reached()
    allowed = world.allowed(at_fault)
    codes = [world.terminate(w) for w in world.workers if w.poll() is None]
    log = world.log_text()
    problems = [p for p in ("Unclosed client session", "Traceback") if p in log]
    if world.lease_holders():
        problems.append(f"leases still held after SIGTERM: {world.lease_holders()}")
    if any(c != 0 for c in codes) or problems:
        note = (note + f" exit codes {codes}; log shows {problems}").strip()
    return Result(name, "postgresql" if world.pg else "sqlite", world.n_tg + world.n_line,
                  lost, dups, allowed, resumed, done, note)


def sigkill_restart(world: World, scale: Scale) -> Result:
    world.issue()
    first = world.start()
    _strike_at(world)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    allowed = world.in_flight_ids()
    end, at_end = time.monotonic(), world.delivered()
    world.started(world.start())
    return _finish(world, "SIGKILL mid-send, restart", allowed, end, at_end, scale.patience)


def _platform_fault(world: World, scale: Scale, name: str, seconds: float,
                    strike: Callable[[], None]) -> Result:
    world.issue()
    worker = world.start()
    _strike_at(world)
    allowed = world.in_flight_ids()
    strike()
    time.sleep(seconds)
    end, at_end = time.monotonic(), world.delivered()
    world.tg_proxy.restore()
    world.line_proxy.restore()
    alive = worker.poll() is None
    return _finish(world, name, allowed, end, at_end, scale.patience,
                   "" if alive else "the worker exited during the fault")


def platform_refusing(world: World, scale: Scale) -> Result:
    def strike() -> None:
        world.tg_proxy.refuse()
        world.line_proxy.refuse()

    return _platform_fault(world, scale, f"platforms refuse connections {scale.refused_s:g} s",
                           scale.refused_s, strike)


def platform_frozen(world: World, scale: Scale) -> Result:
    def strike() -> None:
        world.tg_proxy.stall()
        world.line_proxy.stall()

    return _platform_fault(world, scale, f"platforms frozen {scale.frozen_s:g} s",
                           scale.frozen_s, strike)


def server_errors(world: World, scale: Scale) -> Result:
    """The fakes were built with failure_rate 0.2 (500, 502, 429 with retry_after)."""
    world.issue()
    start, at_start = time.monotonic(), world.delivered()
    world.start()
    return _finish(world, "20 % server errors and 429s", set(), start, at_start, scale.patience)


def database_away(world: World, scale: Scale) -> Result:
    """SQLite: another process holds the write lock; PostgreSQL: the connection is cut
    (a proxy in between refuses and resets)."""
    world.issue()
    worker = world.start()
    _strike_at(world)
    allowed = world.in_flight_ids()
    if world.pg:
        assert world.database_proxy is not None
        world.database_proxy.refuse()
        time.sleep(scale.database_s)
        world.database_proxy.restore()
        name = f"PostgreSQL cut {scale.database_s:g} s"
    else:
        _hold_sqlite_lock(world.db_url, scale.database_s)
        name = f"SQLite locked {scale.database_s:g} s"
    end, at_end = time.monotonic(), world.delivered()
    alive = worker.poll() is None
    return _finish(world, name, allowed, end, at_end, scale.patience,
                   "" if alive else "the worker exited during the fault")


def _hold_sqlite_lock(url: str, seconds: float) -> None:
    path = Path(sa.make_url(url).database or "")
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")  # the write lock, as another process would hold it
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def lease_holder_killed(world: World, scale: Scale) -> Result:
    workers = [world.start() for _ in range(3)]
    for w in workers:
        world.started(w)
    world.wait(lambda: "channel:telegram" in world.lease_holders(), 60, "a lease holder")
    world.issue()
    _strike_at(world)
    holder = world.lease_holders()["channel:telegram"]
    pid = int(holder.rsplit(":", 1)[1])
    victim = next(w for w in workers if w.pid == pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    allowed = world.in_flight_ids()
    end, at_end = time.monotonic(), world.delivered()
    return _finish(world, "lease holder killed (3 workers)", allowed, end, at_end,
                   scale.patience)


def clock_skew(world: World, scale: Scale) -> Result:
    """Two workers, one with its clock 10 s ahead: leases are judged by the database's
    clock, so neither takes a lease the other still holds."""
    first = world.start()
    world.started(first)
    world.wait(lambda: "channel:telegram" in world.lease_holders(), 60, "a lease holder")
    world.started(world.start(clock_offset=10.0))
    world.issue()
    start, at_start = time.monotonic(), world.delivered()
    return _finish(world, "one worker's clock 10 s ahead", set(), start, at_start, scale.patience)


SCENARIOS: dict[str, Callable[[World, Scale], Result]] = {
    "sigkill": sigkill_restart,
    "refused": platform_refusing,
    "frozen": platform_frozen,
    "errors": server_errors,
    "database": database_away,
    "lease": lease_holder_killed,
    "clock": clock_skew,
}


def world_for(name: str, db_url: str, tmp: Path, scale: Scale) -> World:
    """The world each scenario needs (fakes with errors, a database proxy ...)."""
    errors = name == "errors"
    return World(db_url, tmp, telegram=scale.telegram, line=scale.line, rate=scale.rate,
                 timeout=scale.timeout, db_proxy=name == "database",
                 tg_opts={"failure_rate": 0.2, "seed": 7} if errors else None,
                 line_opts={"failure_rate": 0.2, "seed": 8} if errors else None)


def run(name: str, db_url: str, tmp: Path, scale: Scale) -> Result:
    with world_for(name, db_url, tmp, scale) as world:
        return SCENARIOS[name](world, scale)

