"""The fault suite at a small scale (bench/faults.py runs it at full scale): each
scenario ends with every subscriber reached, no more duplicates than recipients in
flight when the fault struck, and workers that exit 0 on SIGTERM with a clean log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.scenarios import SCENARIOS, Scale, run

pytestmark = pytest.mark.slow

SCALE = Scale()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fault(name: str, db_url: str, tmp_path: Path) -> None:
    result = run(name, db_url, tmp_path, SCALE)
    print(result)
    assert result.lost == 0, result
    assert result.duplicates <= result.allowed, result
    assert not result.note, result


def test_the_service_gives_up_after_the_configured_outage_with_one_line(
        db_url: str, tmp_path: Path) -> None:
    """The database away longer than database_outage_limit_seconds: `bousai run` exits
    3 with one line saying why, no traceback, no unclosed session."""
    import sqlite3
    import subprocess

    import sqlalchemy as sa

    from tests.faults.world import World

    with World(db_url, tmp_path, telegram=20, line=0, db_proxy=True) as world:
        text = world.config_path.read_text(encoding="utf-8")
        world.config_path.write_text(text.replace("database_outage_limit_seconds = 600",
                                                  "database_outage_limit_seconds = 3"),
                                     encoding="utf-8")
        lock = None
        if world.pg:
            assert world.database_proxy is not None
            proc = world.start()
            world.started(proc)
            world.wait(lambda: "channel:telegram" in world.lease_holders(), 60, "a lease")
            world.database_proxy.refuse()
        else:
            lock = sqlite3.connect(sa.make_url(db_url).database or "", isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            proc = world.start()
        try:
            code = proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            if lock is not None:
                lock.execute("ROLLBACK")
                lock.close()
        log = world.log_text()
    assert code == 3, log
    errors = [line for line in log.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "database has been unavailable" in errors[0], log
    assert "Traceback" not in log and "Unclosed client session" not in log, log
