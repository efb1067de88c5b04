"""Run the ``bousai`` CLI and report when its transaction that made deliveries due
committed: ``COMMIT_AT <time.monotonic()>`` on stderr, taken right after the
database driver's COMMIT returned (nothing else in the CLI is changed). Used by
bench/wakeup.py to measure accept → first request across processes; on Linux
``time.monotonic()`` is one clock for every process.

    .venv/bin/python bench/commit_clock.py alert issue --kind city_notice ... --yes
"""

from __future__ import annotations

import sys
import time
from typing import Any

from sqlalchemy.engine import default

from bot import wakeup

_pending = False
_due = wakeup.due
_commit = default.DefaultDialect.do_commit


def _marking_due(conn: Any) -> None:
    global _pending
    _due(conn)
    _pending = True


def _timed_commit(self: Any, dbapi_connection: Any) -> None:
    global _pending
    _commit(self, dbapi_connection)
    if _pending:
        _pending = False
        print(f"COMMIT_AT {time.monotonic():.6f}", file=sys.stderr, flush=True)


wakeup.due = _marking_due  # type: ignore[assignment]
default.DefaultDialect.do_commit = _timed_commit  # type: ignore[method-assign]

if __name__ == "__main__":
    from bot.cli import app

    app(prog_name="bousai")
