"""``bousai subscribers …``"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import echo_json, fail, handle_errors, operator_name, service_context
from bot.domain import Subscriber
from bot.errors import ValidationError
from bot.service import Service

app = typer.Typer(help="Subscribers: add, import, list, statistics, erase.",
                  no_args_is_help=True)

MAX_LISTED = 20  # bad rows shown before the summary line


def _subscriber(svc: Service, row: dict[str, Any]) -> Subscriber:
    """One subscriber from the options of ``subscribers add``, checked like an
    imported row."""
    from bot.importing import check_fields

    sub, problems = check_fields(svc.config, row)
    if sub is None:
        raise ValidationError("; ".join(problems))
    return sub


@app.command("add")
@handle_errors
def add(
    channel: Annotated[str, typer.Option(help="telegram, line or x")],
    user_id: Annotated[str, typer.Option("--user-id", help="the platform's user or chat id")],
    language: Annotated[str, typer.Option(help="language tag, e.g. en, vi, ja-easy")],
    ward: Annotated[list[str] | None, typer.Option(help="ward code (JIS); repeat; none = all")
                    ] = None,
    kind: Annotated[list[str] | None, typer.Option(help="alert kind; repeat; none = all")
                    ] = None,
    test: Annotated[bool, typer.Option(help="receives drills and test alerts")] = False,
) -> None:
    """Add or update one subscriber.

    Example: bousai subscribers add --channel telegram --user-id 123456 --language vi --ward 43101
    """
    from bot.store import subscribers as store

    with service_context() as svc:
        sub = _subscriber(svc, {"channel": channel, "user_id": user_id, "language": language,
                                "wards": ward or [], "kinds": kind or [], "test": test})
        with svc.engine.begin() as conn:
            sid = store.upsert(conn, sub)
    typer.echo(f"subscriber {sid}: {channel} {user_id} ({language}, wards "
               f"{' '.join(sub.wards)})")


@app.command("import")
@handle_errors
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="CSV, JSON lines or a JSON array")],
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="import the good rows and write the bad ones to --report")
                            ] = False,
    report: Annotated[Path | None, typer.Option(
        help="where --skip-invalid writes the bad rows (default: FILE.rejected.csv)")
                      ] = None,
    batch: Annotated[int, typer.Option(help="rows per statement batch", min=1)] = 10_000,
) -> None:
    """Import subscribers from CSV (header: channel,user_id,language,wards,kinds,test),
    JSON lines or a JSON array of objects with the same fields, in UTF-8; wards and
    kinds separated by spaces or semicolons. Every row is checked first: if any is
    bad, nothing is written and the bad rows are listed by line (--skip-invalid
    imports the good ones and writes the bad ones to a report). The file is written
    in one transaction: whole or not at all.

    Example: bousai subscribers import tests/fixtures/subscribers.csv
    """
    from bot.importing import check_file, write_report
    from bot.store import subscribers as store

    with service_context() as svc:
        checked = check_file(svc.config, file)
        bad, good = checked.bad, checked.subscribers
        if bad and not skip_invalid:
            for b in bad[:MAX_LISTED]:
                typer.echo(f"error: {b.line(str(file))}", err=True)
            more = f" ({len(bad) - MAX_LISTED} more not shown)" if len(bad) > MAX_LISTED else ""
            raise fail(f"{len(bad)} of {len(bad) + len(good)} rows are bad{more}; nothing "
                       "was imported: fix them, or add --skip-invalid to import the "
                       f"{len(good)} good row{'s' if len(good) != 1 else ''} and write the "
                       "bad ones to a report")
        where = report or file.with_name(file.name + ".rejected.csv")
        if where.resolve() == file.resolve():
            raise fail(f"--report {where} is the file being imported; name another file")
        if bad:  # before anything is written: no report, no import
            write_report(where, bad)
        if not good:
            raise fail(f"none of the {len(bad)} rows can be imported; the problems are in "
                       f"{where}")
        with svc.engine.begin() as conn:
            created = updated = 0
            for i in range(0, len(good), batch):
                c, u = store.import_batch(conn, good[i:i + batch])
                created += c
                updated += u
    typer.echo(f"imported {len(good)} rows: {created} new, {updated} updated"
               + (f"; {len(bad)} bad rows skipped, written to {where}" if bad else ""))


@app.command("list")
@handle_errors
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    inactive: Annotated[bool, typer.Option(help="include inactive subscribers")] = False,
) -> None:
    """List subscribers.

    Example: bousai subscribers list --json
    """
    from bot.store import subscribers as store

    with service_context() as svc, svc.engine.connect() as conn:
        for s in store.iter_all(conn, active=None if inactive else True):
            if as_json:
                echo_json({"id": s.id, "channel": s.channel, "user_id": s.user_id,
                           "language": s.language, "wards": list(s.wards),
                           "kinds": [k.value for k in s.kinds], "test": s.test,
                           "active": s.active})
            else:
                typer.echo(f"{s.id:>6} {s.channel:<8} {s.user_id:<20} {s.language:<8} "
                           f"{' '.join(s.wards):<30} {'test ' if s.test else ''}"
                           f"{'active' if s.active else 'inactive'}")


@app.command("stats")
@handle_errors
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Subscriber counts by channel, language and ward.

    Example: bousai subscribers stats --json
    """
    from bot.store import subscribers as store

    with service_context() as svc, svc.engine.connect() as conn:
        data = store.stats(conn)
    if as_json:
        echo_json(data)
        return
    typer.echo(f"subscribers: {data['active']} active, {data['inactive']} inactive")
    for title, key in (("channel", "by_channel"), ("language", "by_language")):
        for name, v in sorted(data[key].items()):
            typer.echo(f"  {title:<9}{name:<10} {v['active']:>8} active {v['inactive']:>6} "
                       "inactive")
    for ward, n in sorted(data["by_ward"].items()):
        typer.echo(f"  ward     {ward:<10} {n:>8} active")


@app.command("erase")
@handle_errors
def erase(
    channel: Annotated[str, typer.Option()],
    user_id: Annotated[str, typer.Option("--user-id")],
    operator: Annotated[str | None, typer.Option(help="who does this (audit log)")] = None,
) -> None:
    """Delete one subscriber's data; the delivery log keeps only an anonymous record.

    Example: bousai subscribers erase --channel line --user-id U4af4980629...
    """
    from bot.store import alerts as alert_store
    from bot.store import subscribers as store

    with service_context() as svc, svc.engine.begin() as conn:
        if not store.erase(conn, channel, user_id):
            raise fail(f"no {channel} subscriber with that user id")
        alert_store.audit(conn, operator_name(operator), "subscriber_erase", channel=channel)
    typer.echo("subscriber erased")
