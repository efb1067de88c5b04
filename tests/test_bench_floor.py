"""The floor bench/last_subscriber.py divides by: each channel's API requests over its
limit, from the platforms' published limits (channels/*.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from last_subscriber import floor_seconds


def test_floor_of_the_issue_example() -> None:
    # 60,000 Telegram chats at 30/s: 33 minutes; LINE multicasts 500 users a request.
    recipients = {("telegram", "ja"): 60_000, ("line", "ja"): 40_000}
    parts = {("telegram", "ja"): 1, ("line", "ja"): 1}
    floors = floor_seconds(recipients, parts, {"telegram": 30.0, "line": 200.0})
    assert floors["telegram"] == pytest.approx(2000.0)
    assert floors["line"] == pytest.approx(80 / 200)


def test_floor_counts_requests_per_language_and_part() -> None:
    # LINE: 501 users of a language need two multicasts (of up to 5 parts each), and
    # one user of another language a third; Telegram: every part is a request.
    recipients = {("line", "vi"): 501, ("line", "ne"): 1, ("telegram", "vi"): 10}
    parts = {("line", "vi"): 5, ("line", "ne"): 1, ("telegram", "vi"): 3}
    floors = floor_seconds(recipients, parts, {"telegram": 300.0, "line": 2000.0})
    assert floors["line"] == pytest.approx(3 / 2000)
    assert floors["telegram"] == pytest.approx(30 / 300)


def test_console_bench_percentile_and_verdicts() -> None:
    # bench/console.py: p95 by linear interpolation; a page over 500 ms fails and is
    # named, /metrics ≤ 250 ms, the metric hook ≤ 5 µs per outcome.
    from console import percentile, verdicts

    assert percentile([float(i) for i in range(1, 21)], 0.95) == pytest.approx(19.05)
    assert percentile([7.0], 0.95) == 7.0
    lines = verdicts({"/": 120.0, "/subscribers": 640.0}, 80.0, 6.5)
    assert lines[0].startswith("pages p95 ≤ 500 ms: FAIL (/subscribers 640 ms)")
    assert lines[1].endswith("80.0 ms PASS")
    assert lines[2].endswith("6.50 µs FAIL")
    assert all(line.endswith("PASS") or "PASS;" in line
               for line in verdicts({"/": 499.0}, 250.0, 5.0))
