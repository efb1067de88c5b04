"""Small helpers the kind composers share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.render.compose import Context


def param_str(params: Mapping[str, Any], key: str) -> str | None:
    """``params[key]`` as a stripped string, or None when absent or empty."""
    value = params.get(key)
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    text = str(value).strip()
    return text or None


def param_int(params: Mapping[str, Any], key: str) -> int | None:
    value = params.get(key)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def when(ctx: Context, value: object) -> str | None:
    """A time param in local JST format, or None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ctx.when(value.strip())
    except ValueError:
        return None


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


def source_text_ja(ctx: Context, key: str = "text_ja") -> list[str]:
    """JMA's own Japanese wording, shown to Japanese readers only (the template
    carries the meaning in every other language)."""
    text = param_str(ctx.alert.params, key)
    return [text] if text and ctx.language == "ja" else []
