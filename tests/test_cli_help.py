"""Help that works: every command has an example, and every example runs as written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import app
from tests.cli_helpers import bousai, json_lines


def _walk(t: typer.Typer, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command registered on a typer app, with the path that runs it."""
    for c in t.registered_commands:
        assert c.callback is not None
        yield (*path, c.name or c.callback.__name__.lower().replace("_", "-"))
    for g in t.registered_groups:
        sub = g.typer_instance
        assert sub is not None
        name = g.name or sub.info.name
        assert isinstance(name, str)
        yield from _walk(sub, (*path, name))


def test_every_command_help_has_an_example(env: dict[str, str]) -> None:
    commands = list(_walk(app))
    for expected in (("alert", "resend-failed"), ("audit",), ("deliveries", "watch"),
                     ("deliveries", "stats"), ("deliveries", "log"), ("alert", "issue")):
        assert expected in commands
    missing = [" ".join(c) for c in commands
               if "Example" not in bousai(*c, "--help").stdout]
    assert not missing, f"--help without an example: {missing}"




def _examples(command: tuple[str, ...]) -> list[list[str]]:
    """The examples in a command's docstring, as argument lists (environment
    assignments kept in front)."""
    import inspect
    import shlex

    callback = _callback(command)
    doc = inspect.getdoc(callback) or ""
    if "Example:" not in doc:
        return []
    out: list[str] = []
    for line in doc.split("Example:", 1)[1].splitlines():
        line = line.split("   (")[0].strip()  # "bousai run   (until SIGTERM)"
        if not line:
            continue
        if line.startswith(("bousai ", "BOUSAI_")) or not out:
            out.append(line)
        else:
            out[-1] += " " + line
    return [shlex.split(e) for e in out]


def _callback(command: tuple[str, ...]) -> object:
    t: typer.Typer = app
    for name in command[:-1]:
        t = next(g.typer_instance for g in t.registered_groups
                 if (g.name or "") == name and g.typer_instance is not None)
    return next(c.callback for c in t.registered_commands
                if (c.name or (c.callback.__name__.lower().replace("_", "-")
                               if c.callback else "")) == command[-1])


# Examples that are not run here: they run until stopped, poll the real JMA servers, or
# take several seconds of fake platforms (tests/test_demo.py runs the demo).
NOT_RUN = {("run",), ("web", "--port", "8081"), ("feeds", "poll", "jma-eqvol"), ("demo",)}


def test_every_help_example_runs_as_written(env: dict[str, str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example parses, refers to files that exist, and ends with success or one
    clear line, never a usage error or a traceback (fresh database, the repository's
    sample files)."""
    from tests.conftest import ROOT

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    bousai("db", "upgrade")
    ran = 0
    for command in sorted(_walk(app), key=lambda c: c != ("subscribers", "add")):
        for example in _examples(command):
            while example and re.match(r"[A-Z_]+=", example[0]):
                name, value = example.pop(0).split("=", 1)
                if name != "BOUSAI_DATABASE_URL":  # the test's own database
                    monkeypatch.setenv(name, value)
            assert example[0] == "bousai", example
            args = example[1:]
            if tuple(args) in NOT_RUN:
                continue
            result = CliRunner().invoke(app, args, input="n\n", catch_exceptions=False)
            err = result.stderr
            assert "Traceback" not in err and result.exit_code in (0, 1), \
                f"bousai {' '.join(args)} exited {result.exit_code}:\n{err}"
            if result.exit_code == 1:
                lines = [ln for ln in err.splitlines() if ln.startswith("error: ")]
                assert len(lines) == 1, f"bousai {' '.join(args)}:\n{err}"
            ran += 1
    assert ran >= 25
    issued = json_lines(bousai("alert", "list", "--json").stdout)
    assert issued and issued[-1]["kind"] == "evacuation"  # the issue example worked


def test_every_command_answers_an_unknown_option_with_one_line(env: dict[str, str]) -> None:
    for command in _walk(app):
        result = CliRunner().invoke(app, [*command, "--no-such-option"])
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert result.exit_code == 2, (command, result.stderr)
        assert len(lines) == 1 and "Traceback" not in result.stderr, (command, result.stderr)
        assert lines[0].startswith("error: No such option") and "--help" in lines[0]


@pytest.mark.parametrize("out", ["file", "unwritable"])
def test_an_output_path_that_cannot_be_used_is_one_line(env: dict[str, str], tmp_path: Path,
                                                        out: str) -> None:
    import os

    target = tmp_path / "posters"
    if out == "file":
        target.write_text("not a folder", encoding="utf-8")
    else:
        target.mkdir()
        os.chmod(target, 0o500)
        if os.access(target, os.W_OK):  # root ignores the mode; a path under a file then
            target = tmp_path / "file" / "posters"
            (tmp_path / "file").write_text("x", encoding="utf-8")
    result = bousai("signup-links", "--out", str(target), expect=1)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in \
        result.stderr, result.stderr
