"""``bousai`` with this process's clock off by N seconds (argv[1]), for the fault
suite: ``python tests/faults/skewed.py 10 run --no-poll-feeds``. The product reads
the time through ``bot.db.schema.utcnow``; it is replaced before any module that
uses it is imported."""

from __future__ import annotations

import datetime as dt
import sys

import bot.db.schema as schema

offset = dt.timedelta(seconds=float(sys.argv.pop(1)))
_real = schema.utcnow


def _skewed() -> dt.datetime:
    return _real() + offset


schema.utcnow = _skewed

from bot.cli import main  # noqa: E402 - after the clock is set

main()
