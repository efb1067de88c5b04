"""The top-level ``bousai`` app; each group lives in its own module."""

from __future__ import annotations

import typer

from bot.cli import alerts, deliveries, subscribers
from bot.cli.common import handle_errors
from bot.cli.run import run_command

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


def main() -> None:
    app()
