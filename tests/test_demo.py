"""The README's first command: `bousai demo` runs the whole job locally."""

from __future__ import annotations

import threading

from rich.console import Console

from bot.demo import run_demo


def test_demo_sends_everything_and_leaves_nothing_running(env: dict[str, str]) -> None:
    threads_before = {t.name for t in threading.enumerate()}
    console = Console(record=True, width=120)
    counts = run_demo(console, per_language=3)
    out = console.export_text()
    # 16 languages x 3 subscribers on Telegram and on LINE, plus one X post per
    # configured X language; nothing failed or left pending.
    assert counts["failed"] == counts["pending"] == 0
    assert counts["sent"] == 16 * 3 * 2 + 5
    assert "32-35_04_04_240613_VXSE53.xml" in out and "approved alert" in out
    assert "大隅半島東方沖" in out  # the epicenter, as JMA names it
    assert "Osumi" in out  # ... and in English from JMA's dictionary
    assert "fake Telegram received 48 messages" in out
    leftover = {t.name for t in threading.enumerate()} - threads_before
    assert not {n for n in leftover if n.startswith("Fake")}, leftover
