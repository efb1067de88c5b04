"""The service definitions (systemd unit, Dockerfile, compose file) are well-formed,
run commands that exist, keep the hardening the README promises, and the
container's health check really tells a ready service from one that is not."""

from __future__ import annotations

import http.server
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer
import yaml

from bot.cli import app
from bot.config import load_settings
from tests.conftest import ROOT

UNIT = ROOT / "deploy" / "systemd" / "bousai.service"
ENV_EXAMPLE = ROOT / "deploy" / "systemd" / "bousai.env.example"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"


def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """systemd's unit syntax: sections of ``Key=value`` lines; a key may repeat."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path}:{n}: bad section {line!r}"
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path}:{n}: not Key=value: {line!r}"
        key, _, value = line.partition("=")
        assert re.fullmatch(r"[A-Za-z]+", key), f"{path}:{n}: bad key {key!r}"
        current.setdefault(key, []).append(value)
    return sections


def _bousai_command(argv: list[str]) -> click.Command:
    """The click command ``bousai ARGV…`` runs; fails when there is none."""
    command: click.Command = typer.main.get_command(app)
    args = list(argv)
    while isinstance(command, click.Group) and args:
        name = args.pop(0)
        sub = command.get_command(click.Context(command), name)
        assert sub is not None, f"`bousai {' '.join(argv)}`: no command {name!r}"
        command = sub
    assert not isinstance(command, click.Group), f"`bousai {' '.join(argv)}` is a group"
    return command


def test_the_systemd_unit_runs_existing_commands_as_a_hardened_service() -> None:
    unit = _unit(UNIT)
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    [start] = service["ExecStart"]
    [pre] = service["ExecStartPre"]
    for line, argv in ((start, ["run"]), (pre, ["db", "upgrade"])):
        program, *args = shlex.split(line)
        assert program.endswith("/bin/bousai") and args == argv
        _bousai_command(args)
    assert service["User"] == ["bousai"] and service["Restart"] == ["always"]
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                       ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("UMask", "0077"),
                       ("ReadOnlyPaths", "/etc/bousai"), ("CapabilityBoundingSet", "")):
        assert service[key] == [value], key
    assert service["EnvironmentFile"] == ["/etc/bousai/bousai.env"]
    assert "BOUSAI_CONFIG=/etc/bousai/bousai.toml" in service["Environment"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_environment_example_names_only_variables_the_service_reads() -> None:
    pairs = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8")
                 .splitlines() if line.strip() and not line.startswith("#"))
    settings = load_settings(pairs)
    assert settings.http_host == "127.0.0.1"  # behind a reverse proxy, never 0.0.0.0 here
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for var in pairs:
        assert f"`{var}`" in readme or f"{var}`" in readme, f"{var} is not in the README"
    assert not any(pairs[v] for v in pairs if v.endswith(("TOKEN", "SECRET", "KEY")))


def _instructions(path: Path) -> list[tuple[str, str]]:
    """A Dockerfile's instructions, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        pending += raw.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, rest = pending.strip().partition(" ")
        out.append((word.upper(), " ".join(rest.split())))
        pending = ""
    assert not pending, "a continued line at the end of the Dockerfile"
    return out


def test_the_image_is_slim_unprivileged_checks_readyz_and_listens_on_all_interfaces() -> None:
    steps = _instructions(DOCKERFILE)
    known = {"FROM", "WORKDIR", "COPY", "RUN", "ENV", "USER", "EXPOSE", "HEALTHCHECK",
             "STOPSIGNAL", "ENTRYPOINT", "CMD"}
    assert {word for word, _ in steps} <= known
    assert [arg for word, arg in steps if word == "FROM"] == ["python:3.11-slim AS build",
                                                              "python:3.11-slim"]
    for word, arg in steps:
        if word == "COPY" and not arg.startswith("--from"):
            for source in arg.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    [user] = [arg for word, arg in steps if word == "USER"]
    assert not user.startswith(("0", "root"))
    env = " ".join(arg for word, arg in steps if word == "ENV")
    assert "BOUSAI_HTTP_HOST=0.0.0.0" in env
    [entry] = [arg for word, arg in steps if word == "ENTRYPOINT"]
    [cmd] = [arg for word, arg in steps if word == "CMD"]
    assert entry == '["bousai"]'
    _bousai_command(yaml.safe_load(cmd))
    [check] = [arg for word, arg in steps if word == "HEALTHCHECK"]
    assert "/readyz" in check and "--timeout=5s" in check


class _Ready(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def probe() -> Iterator[tuple[int, type[_Ready]]]:
    handler = type("Handler", (_Ready,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def test_the_health_check_passes_only_when_readyz_says_ready(
        probe: tuple[int, type[_Ready]]) -> None:
    port, handler = probe
    [check] = [arg for word, arg in _instructions(DOCKERFILE) if word == "HEALTHCHECK"]
    argv = yaml.safe_load(check.split(" CMD ", 1)[1])
    assert argv[:2] == ["python", "-c"]
    run = [sys.executable, "-c", argv[2]]
    env = {"BOUSAI_HTTP_PORT": str(port), "PATH": "/usr/bin:/bin"}
    assert subprocess.run(run, env=env, capture_output=True, timeout=30).returncode == 0
    handler.status = 503
    assert subprocess.run(run, env=env, capture_output=True, timeout=30).returncode != 0


def test_the_compose_file_runs_migrations_then_the_service_with_postgresql() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "migrate", "bousai"}
    assert services["db"]["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    migrate, bousai = services["migrate"], services["bousai"]
    assert migrate["command"] == ["db", "upgrade"] and bousai["command"] == ["run"]
    for svc in (migrate, bousai):
        _bousai_command(svc["command"])
        env = svc["environment"]
        assert env["BOUSAI_DATABASE_URL"].startswith("postgresql://bousai:")
        assert env["BOUSAI_CONFIG"] == "/etc/bousai/bousai.toml"
        assert env["BOUSAI_HTTP_HOST"] == "0.0.0.0"
        assert svc["volumes"] == ["./config:/etc/bousai:ro"]
        assert (ROOT / "config" / "bousai.toml").is_file()
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert bousai["depends_on"] == {"migrate": {"condition":
                                                "service_completed_successfully"}}
    assert bousai["restart"] == "unless-stopped" and bousai["read_only"] is True
    # webhooks and health, and the operators' console, both on loopback only
    assert bousai["ports"] == ["127.0.0.1:8080:8080", "127.0.0.1:8081:8081"]
    assert "no-new-privileges:true" in bousai["security_opt"]
