"""``bousai subscribers …``"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import echo_json, fail, handle_errors, operator_name, service_context
from bot.domain import Kind, Subscriber
from bot.errors import ValidationError
from bot.service import Service

app = typer.Typer(help="Subscribers: add, import, list, statistics, erase.",
                  no_args_is_help=True)

CHANNELS = ("telegram", "line", "x")


def _subscriber(svc: Service, row: dict[str, Any], where: str) -> Subscriber:
    channel = str(row.get("channel", "")).strip()
    if channel not in CHANNELS:
        raise ValidationError(f"{where}: channel must be one of {', '.join(CHANNELS)}, "
                              f"got {channel!r}")
    wards = row.get("wards", [])
    if isinstance(wards, str):
        wards = [w for w in wards.replace(";", " ").replace(",", " ").split() if w]
    kinds = row.get("kinds") or []
    if isinstance(kinds, str):
        kinds = [k for k in kinds.replace(";", " ").replace(",", " ").split() if k]
    test = row.get("test", False)
    if isinstance(test, str):
        test = test.strip().lower() in ("1", "true", "yes", "y")
    try:
        return Subscriber(
            channel=channel, user_id=str(row.get("user_id", "")).strip(),
            language=svc.config.check_language(str(row.get("language", "")).strip()),
            wards=svc.config.check_wards(list(wards)) if wards else svc.config.ward_codes,
            kinds=tuple(Kind(k) for k in kinds), test=bool(test))
    except ValueError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    except LookupError as exc:
        raise ValidationError(f"{where}: {exc}") from None


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
                                "wards": ward or [], "kinds": kind or [], "test": test},
                          "subscriber")
        with svc.engine.begin() as conn:
            sid = store.upsert(conn, sub)
    typer.echo(f"subscriber {sid}: {channel} {user_id} ({language}, wards "
               f"{' '.join(sub.wards)})")


def _read_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    text = path.read_text(encoding="utf-8-sig")
    rows: list[tuple[str, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValidationError(f"{path}:{n}: not JSON: {exc.msg}") from None
                if not isinstance(obj, dict):
                    raise ValidationError(f"{path}:{n}: expected a JSON object")
                rows.append((f"{path}:{n}", obj))
    else:
        reader = csv.DictReader(io.StringIO(text))
        for n, row in enumerate(reader, 2):
            rows.append((f"{path}:{n}", dict(row)))
    return rows


@app.command("import")
@handle_errors
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="CSV or JSON lines file")],
    batch: Annotated[int, typer.Option(help="rows per transaction")] = 10_000,
) -> None:
    """Import subscribers from CSV (header: channel,user_id,language,wards,test) or JSON
    lines; wards separated by spaces or semicolons. All rows are checked before any
    is written.

    Example: bousai subscribers import tests/fixtures/subscribers.csv
    """
    from bot.store import subscribers as store

    with service_context() as svc:
        subs = [_subscriber(svc, row, where) for where, row in _read_rows(file)]
        created = updated = 0
        for i in range(0, len(subs), batch):
            with svc.engine.begin() as conn:
                c, u = store.import_batch(conn, subs[i:i + batch])
            created += c
            updated += u
    typer.echo(f"imported {len(subs)} rows: {created} new, {updated} updated")


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
