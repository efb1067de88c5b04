"""``bousai ingest``: read JMA XML, CAP and Atom/RSS documents from files or URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import echo_json, handle_errors, parse_time, service_context
from bot.errors import IngestError


def _read(source: str, max_bytes: int, timeout: float) -> bytes:
    if source.startswith(("http://", "https://")):
        from bot.feeds import fetch_url

        return fetch_url(source, max_bytes=max_bytes, timeout=timeout,
                         allowed_hosts=_ingest_hosts())
    path = Path(source)
    if not path.is_file():
        raise IngestError("no such file", source=source)
    if path.stat().st_size > max_bytes:
        raise IngestError(f"larger than {max_bytes} bytes", source=source)
    return path.read_bytes()


def _ingest_hosts() -> list[str]:
    """``[ingest] allowed_hosts``: where a URL given to ``bousai ingest`` may redirect
    besides its own host."""
    from bot.config import load_config

    hosts = load_config().section("ingest").get("allowed_hosts", [])
    return [h for h in hosts if isinstance(h, str)] if isinstance(hosts, list) else []


@handle_errors
def ingest_command(
    sources: Annotated[list[str], typer.Argument(help="files or http(s) URLs",
                                                 metavar="PATH_OR_URL...")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="parse and decide; store "
                                                            "nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per alert")
                       ] = False,
    max_bytes: Annotated[int, typer.Option(help="refuse larger documents")] = 5_000_000,
    timeout: Annotated[float, typer.Option(help="seconds per URL")] = 20.0,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="judge freshness as if it were this time (ISO; drills, replays)")
    ] = None,
) -> None:
    """Read official documents (JMA XML, CAP 1.2, Atom/RSS), show which policy rule
    matched and why, and (without --dry-run) store them as the scheduler would. A
    notice older than its kind's [freshness] is held, never sent by itself. Exits 1 if
    any document was rejected.

    Example: bousai ingest --dry-run --json tests/fixtures/jma/32-35_04_04_240613_VXSE53.xml
    """
    from bot.intake import Intake

    rejected = 0
    with service_context() as svc:
        intake = Intake.for_service(svc, as_of=parse_time(as_of, "--as-of"))
        for source in sources:
            try:
                data = _read(source, max_bytes, timeout)
            except IngestError as exc:
                records = [{"origin": source, "error": exc.reason}]
            else:
                records = intake.process(data, source, dry_run=dry_run)
            for rec in records:
                if "error" in rec:
                    rejected += 1
                if as_json:
                    echo_json(rec)
                elif "error" in rec:
                    typer.echo(f"{source}: rejected: {rec['error']}", err=True)
                else:
                    stored = "" if dry_run else (
                        f" → alert {rec.get('id')}" + (" (already seen)"
                                                       if rec.get("duplicate") else ""))
                    typer.echo(f"{source}: {rec['kind']} {rec['msg_type']} "
                               f"{'in' if rec['in_jurisdiction'] else 'outside'} jurisdiction"
                               f", wards {' '.join(rec['wards']) or '-'}: {rec['policy']} "
                               f"({rec['reason'] if rec['rule'] == 'stale' else rec['rule']})"
                               f"{stored}")
    if rejected:
        raise typer.Exit(1)
