"""The top-level ``bousai`` app; each group lives in its own module."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Annotated, Any

import typer
import typer.core
import typer.rich_utils

from bot.cli import alerts, channels, deliveries, feeds, safety, subscribers
from bot.cli import operators as operators_cli
from bot.cli import x as x_cli
from bot.cli.audit import audit_command
from bot.cli.common import handle_errors
from bot.cli.follow_ups import follow_ups
from bot.cli.ingest import ingest_command
from bot.cli.places import shelters_app, wards_command
from bot.cli.posters import posters_command
from bot.cli.resend import resend_failed
from bot.cli.run import run_command
from bot.cli.signup_links import signup_links
from bot.cli.web import web_command

# --help shows option types the way operators read them: TEXT, NUMBER, nothing for a
# flag (typer's own labels are Python types such as <bool> and <list[str]>).
_PLAIN_TYPES = {"<bool>": None, "<str>": "TEXT", "<int>": "NUMBER", "<float>": "NUMBER",
                "<list[str]>": "TEXT …", "<Path>": "PATH", "<path>": "PATH"}


def _plain_type(original: Callable[..., str | None]) -> Callable[..., str | None]:
    def display(self: object, ctx: object) -> str | None:
        label = original(self, ctx)
        if label is None:
            return None
        return _PLAIN_TYPES.get(label, label.strip("<>").upper())
    return display


for _cls in (typer.core.TyperOption, typer.core.TyperArgument):
    _cls.display_type_rich = _plain_type(_cls.display_type_rich)  # type: ignore[method-assign]


def _one_line_usage_error(self: Any) -> None:
    """A usage mistake (unknown option, missing value, bad number) in one line that
    says where to look, instead of a boxed usage screen (``self``: click's error)."""
    ctx = getattr(self, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    typer.echo(f"error: {self.format_message()}{hint}", err=True)


typer.rich_utils.rich_format_error = _one_line_usage_error

alerts.app.command("resend-failed")(resend_failed)
for _command in follow_ups.registered_commands:  # update, lift, cancel
    alerts.app.registered_commands.append(_command)

app = typer.Typer(
    name="bousai",
    help="Multilingual disaster information for residents and visitors, over LINE, X and "
    "Telegram.\n\nStart with `bousai db upgrade`, then `bousai demo` or `bousai run`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"bousai {version('bousai-bot')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool | None, typer.Option(
        "--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = None,
) -> None:
    """Multilingual disaster information for residents and visitors, over LINE, X and
    Telegram. Start with `bousai db upgrade`, then `bousai demo` or `bousai run`."""
    # Files the commands export (logs, posters, QR codes) are never group- or
    # world-writable, whatever the operator's umask.
    os.umask(os.umask(0o022) | 0o022)

app.add_typer(db_app, name="db")
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(alerts.app, name="alert")
app.add_typer(deliveries.app, name="deliveries")
app.command("run")(run_command)
app.command("web")(web_command)
app.command("signup-links")(signup_links)
app.command("posters")(posters_command)
app.command("ingest")(ingest_command)
app.command("audit")(audit_command)
app.add_typer(feeds.app, name="feeds")
app.add_typer(channels.app, name="channels")
app.command("wards")(wards_command)
app.add_typer(shelters_app, name="shelters")
app.add_typer(safety.app, name="safety")
app.add_typer(x_cli.app, name="x")
app.add_typer(operators_cli.app, name="operators")


@db_app.command("upgrade")
@handle_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version.

    Example: BOUSAI_DATABASE_URL=postgresql://postgres@127.0.0.1/test bousai db upgrade
    """
    from bot.config import load_settings
    from bot.db import make_engine, upgrade

    settings = load_settings()
    engine = make_engine(settings.database_url)
    before, after = upgrade(engine)
    engine.dispose()
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded from {before or 'empty'} to {after}")


@app.command("demo")
@handle_errors
def demo(
    per_language: Annotated[int, typer.Option(help="subscribers per language and channel")
                            ] = 6,
) -> None:
    """Run the whole job locally: fake Telegram, LINE and X servers, a throwaway SQLite
    database, seeded subscribers, a real JMA earthquake report, live delivery progress,
    renderings and the delivery summary. Needs no accounts; leaves nothing running.

    Example: bousai demo
    """
    from bot.demo import run_demo
    from bot.logs import setup_logging

    setup_logging("text", level=logging.WARNING)
    counts = run_demo(per_language=per_language)
    if counts["failed"] or counts["pending"]:
        raise typer.Exit(1)


def main() -> None:
    app()
