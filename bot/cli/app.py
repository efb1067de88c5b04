"""The top-level ``bousai`` app; each group lives in its own module."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.cli import alerts, deliveries, feeds, subscribers
from bot.cli.audit import audit_command
from bot.cli.common import handle_errors
from bot.cli.follow_ups import follow_ups
from bot.cli.ingest import ingest_command
from bot.cli.resend import resend_failed
from bot.cli.run import run_command
from bot.cli.signup_links import signup_links

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
app.add_typer(db_app, name="db")
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(alerts.app, name="alert")
app.add_typer(deliveries.app, name="deliveries")
app.command("run")(run_command)
app.command("signup-links")(signup_links)
app.command("ingest")(ingest_command)
app.command("audit")(audit_command)
app.add_typer(feeds.app, name="feeds")


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
