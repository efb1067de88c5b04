"""``bousai posters``: A4 posters a city prints, with QR codes to sign up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import echo_json, handle_errors
from bot.posters.fonts import DEFAULT_FONT_DIR


@handle_errors
def posters_command(
    out: Annotated[Path, typer.Option("--out", help="directory to write the posters into")],
    language: Annotated[list[str] | None, typer.Option(
        "--language", help="language tag; repeat; default: every enabled language")] = None,
    ward: Annotated[str | None, typer.Option(
        "--ward", help="ward (code or name) or 'all' to pre-set in the Telegram link")] = None,
    font_dir: Annotated[Path, typer.Option(
        "--font-dir", envvar="BOUSAI_FONT_DIR",
        help="where the Noto fonts are (Debian: fonts-noto-core, fonts-noto-cjk)")
    ] = DEFAULT_FONT_DIR,
    preview: Annotated[bool, typer.Option(
        "--preview/--no-preview", help="also write a PNG preview of each page (pdftoppm)")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per poster")] = False,
) -> None:
    """Write A4 posters (PDF, and PNG previews): one per language with やさしい日本語,
    and one with every language; QR codes for LINE and Telegram.

    Example: bousai posters --language vi --language ne --ward 中央区 --out posters/
    """
    from bot.config import TEMPLATES_DIR, load_config
    from bot.places import resolve_ward
    from bot.posters.make import PosterMaker
    from bot.render.catalog import Catalogs

    config = load_config()
    langs = [config.check_language(t) for t in language] if language else list(config.languages)
    code = None
    if ward is not None:
        code = ("all" if ward.strip().lower() in ("all", "city")
                else resolve_ward(config, ward).code)
    catalogs = Catalogs.load(TEMPLATES_DIR, config.languages, config.fallback_languages)
    made = PosterMaker(config, catalogs, font_dir).make(langs, code, out, previews=preview)
    for poster in made:
        if as_json:
            echo_json({"language": poster.language, "pdf": str(poster.pdf),
                       "png": str(poster.png) if poster.png else None,
                       "links": list(poster.links)})
    if not as_json:
        typer.echo(f"{len(made)} posters written to {out} "
                   f"({', '.join(p.pdf.name for p in made)})")
