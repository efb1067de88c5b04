"""``bousai wards`` and ``bousai shelters search``: the names operators may type."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import echo_json, fail, handle_errors
from bot.config import load_config
from bot.places import search_shelters, shelter_ward

shelters_app = typer.Typer(help="The city's designated shelters.", no_args_is_help=True)


@handle_errors
def wards_command(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """The wards, with the codes and names that --ward accepts.

    Example: bousai wards
    """
    config = load_config()
    for w in config.wards:
        if as_json:
            echo_json({"code": w.code, "jma_code": w.jma_code, "names": dict(w.names)})
        else:
            typer.echo(f"{w.code}  {w.name('ja')}  {w.name('en')}  (JMA {w.jma_code})")
    if not as_json:
        typer.echo("--ward takes the code, the Japanese or English name (chuo, Chuo-ku), "
                   "or 'all' for the whole city")


@shelters_app.command("search")
@handle_errors
def search(
    text: Annotated[str, typer.Argument(help="an id or part of a shelter's name")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """Shelters whose id is TEXT or whose name contains it, with ward and address.

    Example: bousai shelters search 白川
    """
    config = load_config()
    found = search_shelters(text)
    if not found:
        raise fail(f"no shelter matches {text!r}")
    for s in found:
        ward = shelter_ward(config, s)
        if as_json:
            echo_json({"id": s.id, "name": s.name, "ward": ward.code if ward else None,
                       "address": s.address, "lat": s.lat, "lon": s.lon})
        else:
            typer.echo(f"{s.id}  {s.name}  {ward.name('ja') if ward else '-'}  {s.address}")
