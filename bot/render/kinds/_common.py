"""Small helpers the kind composers share."""

from __future__ import annotations

import datetime as dt

from bot.render.compose import Context


def when(ctx: Context, value: dt.datetime | None) -> str | None:
    """A time in local JST format, or None when there is none."""
    return ctx.when(value) if value is not None else None


def free_lines(ctx: Context) -> list[str]:
    """The operator's headline and body in this language.

    やさしい日本語 is never machine-translated: the Japanese text stays as it is
    unless the operator wrote an easy-Japanese version.
    """
    a = ctx.alert
    if ctx.language == "ja-easy" and not a.texts.get("ja-easy"):
        texts = [a.headline_ja, a.body_ja]
    else:
        texts = [ctx.free_text(t) if t else "" for t in (a.headline_ja, a.body_ja)]
    headline, body = texts
    lines = []
    if headline and headline != body:
        lines.append(headline)
    if body:
        lines.append(body)
    return lines


def source_text_ja(ctx: Context, text: str | None) -> list[str]:
    """JMA's own Japanese wording, shown to Japanese readers only (the template
    carries the meaning in every other language)."""
    text = (text or "").strip()
    return [text] if text and ctx.language == "ja" else []
