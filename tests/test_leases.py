"""run_while_leased: the lease is held only while the work runs, and given up on every
way out (stop, the work failing, cancellation), so no other worker waits for it to
expire."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.schema import leases, metadata
from bot.leases import holder_of, run_while_leased


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'leases.db'}")
    metadata.create_all(eng, tables=[leases])
    yield eng
    eng.dispose()


def holder(engine: sa.Engine, name: str) -> str | None:
    with engine.connect() as conn:
        return holder_of(conn, name)


async def test_the_lease_is_held_while_working_and_given_up_at_stop(engine: sa.Engine) -> None:
    stop, started = asyncio.Event(), asyncio.Event()

    async def work(inner: asyncio.Event) -> None:
        started.set()
        await inner.wait()

    task = asyncio.create_task(run_while_leased(engine, "job", "w1", 3.0, work, stop))
    await asyncio.wait_for(started.wait(), 5)
    assert holder(engine, "job") == "w1"
    stop.set()
    await asyncio.wait_for(task, 5)
    assert holder(engine, "job") is None


async def test_work_that_fails_gives_up_the_lease_and_the_failure_is_raised(
        engine: sa.Engine) -> None:
    async def work(inner: asyncio.Event) -> None:
        raise RuntimeError("the work broke")

    with pytest.raises(RuntimeError, match="the work broke"):
        await asyncio.wait_for(
            run_while_leased(engine, "job", "w1", 3.0, work, asyncio.Event()), 5)
    assert holder(engine, "job") is None


async def test_work_that_ignores_stop_is_cancelled_and_the_lease_given_up(
        engine: sa.Engine) -> None:
    stop, started = asyncio.Event(), asyncio.Event()

    async def stubborn(inner: asyncio.Event) -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(run_while_leased(engine, "job", "w1", 0.6, stubborn, stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)  # bounded by the lease's ttl, not the work
    assert holder(engine, "job") is None


async def test_a_second_worker_waits_and_takes_over_after_the_first_stops(
        engine: sa.Engine) -> None:
    stop1, stop2 = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    def work_as(name: str) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
        async def work(inner: asyncio.Event) -> None:
            ran.append(name)
            await inner.wait()
        return work

    first = asyncio.create_task(
        run_while_leased(engine, "job", "w1", 0.9, work_as("w1"), stop1))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(
        run_while_leased(engine, "job", "w2", 0.9, work_as("w2"), stop2))
    await asyncio.sleep(0.5)
    assert ran == ["w1"] and holder(engine, "job") == "w1"
    stop1.set()
    await asyncio.wait_for(first, 5)
    for _ in range(50):
        if ran == ["w1", "w2"]:
            break
        await asyncio.sleep(0.05)
    assert ran == ["w1", "w2"] and holder(engine, "job") == "w2"
    stop2.set()
    await asyncio.wait_for(second, 5)
    assert holder(engine, "job") is None
