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
