"""Run the ``bousai`` CLI in-process and read its output."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from bot.cli import app


def bousai(*args: str, expect: int = 0, input: str | None = None) -> Any:
    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    output = result.stdout
    assert result.exit_code == expect, (
        f"bousai {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
        f"stdout: {output}\nstderr: {result.stderr}"
    )
    return result


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
