"""Small helpers the kind composers share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from bot.domain import JmaComment
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


def city_coasts(ctx: Context) -> tuple[str, ...]:
    """JMA tsunami forecast areas (津波予報区) of the city's coasts, as configured in
    ``[jurisdiction] tsunami_areas``."""
    codes = ctx.config.section("jurisdiction").get("tsunami_areas", ())
    return tuple(str(c) for c in codes) if isinstance(codes, list | tuple) else ()


# ---------------------------------------------------------------- JMA's comments

COMMENT_KEY = "jma_comment."
# Fixed comments that annotate the lists of intensity stations (＊印は気象庁以外の震度観測点
# …; 0210 is the same note in reports before JMA's 2013 code revision): a message
# lists no stations, so the note would point at nothing.
NOT_SHOWN = frozenset({"0262", "0263", "0210"})
# Codes of reports from before JMA's 2013 code revision, with the same text as today's
# code (checked against the samples: 0203 この地震による津波の心配はありません。).
SAME_AS = {"0203": "0215"}


def original_ja(ctx: Context, text: str | None) -> list[str]:
    """JMA's own Japanese words, labelled as such in every language."""
    text = (text or "").strip()
    return [ctx.t("jma_comment.original"), text] if text else []


def comment_lines(ctx: Context, comments: Sequence[JmaComment],
                  shown: Callable[[str], bool] = lambda code: True) -> tuple[list[str], set[str]]:
    """JMA's fixed comments in this language, in JMA's order, and the codes carried.

    Each code is the catalog message ``jma_comment.<code>``; codes ``shown`` refuses
    (a comment that speaks to coasts that are not the city's) and :data:`NOT_SHOWN`
    are left out. A block with a code no catalog knows is given as JMA's Japanese
    text, labelled, so that nothing JMA said is lost.
    """
    lines: list[str] = []
    carried: set[str] = set()
    for block in comments:
        unknown = not block.codes
        for raw in block.codes:
            code = SAME_AS.get(raw, raw)
            if code in NOT_SHOWN or not shown(code):
                continue
            said = ctx.opt(COMMENT_KEY + code)
            if said is None:
                unknown = True
            elif said not in lines:
                lines.append(said)
                carried.add(code)
        if unknown:
            lines.extend(original_ja(ctx, block.text_ja))
    return lines, carried
