"""``bousai signup-links``: deep links and QR codes for posters and flyers
(the links themselves: :mod:`bot.signup.links`; printable posters: ``bousai posters``)."""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import segno
import typer

from bot.cli.common import fail, handle_errors
from bot.config import Config
from bot.posters.files import no_group_write
from bot.signup.links import line_basic_id, line_link, telegram_link, telegram_username


@dataclass(frozen=True)
class Link:
    channel: str
    language: str
    ward: str
    ward_name: str
    url: str
    png: str
    svg: str


def _qr(url: str, out: Path, stem: str) -> tuple[str, str]:
    qr = segno.make(url, error="m")
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    qr.save(str(png), scale=10, border=4)
    qr.save(str(svg), scale=10, border=4, xmldecl=False)
    return png.name, svg.name


def build_links(config: Config, languages: list[str], wards: list[str], out: Path
                ) -> list[Link]:
    links: list[Link] = []
    username = telegram_username(config)
    if username is not None:
        for lang in languages:
            for ward in wards:
                name = (config.ward(ward).name(lang) if ward != "all"
                        else config.city_display_name(lang))
                url = telegram_link(username, lang, ward)
                png, svg = _qr(url, out, f"telegram-{lang}-{ward}")
                links.append(Link("telegram", lang, ward, name, url, png, svg))
    basic_id = line_basic_id(config)
    if basic_id is not None:
        url = line_link(basic_id)
        png, svg = _qr(url, out, "line-add-friend")
        links.append(Link("line", "", "", "", url, png, svg))
    return links


def write_index(links: list[Link], out: Path) -> None:
    with (out / "index.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["channel", "language", "ward", "ward_name", "url", "png", "svg"])
        for k in links:
            writer.writerow([k.channel, k.language, k.ward, k.ward_name, k.url, k.png, k.svg])
    rows = "\n".join(
        f"<tr><td>{html.escape(k.channel)}</td><td>{html.escape(k.language)}</td>"
        f"<td>{html.escape(k.ward_name)}</td><td><a href=\"{html.escape(k.url)}\">"
        f"{html.escape(k.url)}</a></td><td><img src=\"{html.escape(k.svg)}\" width=\"160\" "
        f"alt=\"QR code: {html.escape(k.url)}\"></td></tr>" for k in links)
    (out / "index.html").write_text(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>bousai sign-up links"
        "</title></head><body>\n<table>\n<tr><th>channel</th><th>language</th><th>area</th>"
        f"<th>link</th><th>QR</th></tr>\n{rows}\n</table>\n</body></html>\n",
        encoding="utf-8")


@handle_errors
def signup_links(
    language: Annotated[list[str] | None, typer.Option(
        "--language", help="language tag; repeat; default: every enabled language")] = None,
    ward: Annotated[list[str] | None, typer.Option(
        "--ward", help="ward code or 'all' (whole city); repeat; default: every ward and all")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="directory to write into")
                   ] = Path("signup-links"),
) -> None:
    """Write sign-up deep links and QR codes (PNG, SVG) with an index (CSV, HTML).

    Example: bousai signup-links --language vi --ward 43101 --out posters/
    """
    from bot.config import load_config

    config = load_config()
    langs = [config.check_language(t) for t in language] if language else list(config.languages)
    if ward:
        codes = [w for w in ward if w == "all"]
        codes += list(config.check_wards([w for w in ward if w != "all"]))
    else:
        codes = [*config.ward_codes, "all"]
    with no_group_write():
        out.mkdir(parents=True, exist_ok=True)
        links = build_links(config, langs, codes, out)
        if not links:
            raise fail("no links: enable [channels.telegram], or [channels.line] with "
                       f"basic_id, in {config.path}")
        write_index(links, out)
    typer.echo(f"{len(links)} links with QR codes written to {out} (index.csv, index.html)")
