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
