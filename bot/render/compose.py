"""Turn an alert into the text of one language, before any channel splitting.

A composer per alert kind builds the body from catalog messages and the
alert's structured ``params``; :func:`compose` adds what every message has:
the test banner, the correction/cancellation lead, the wards, the time.

Composers for more kinds register themselves with :func:`composer`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from bot.domain import Alert, Kind, MsgType
from bot.render.catalog import Catalogs
from bot.render.timefmt import format_jst

# translate(text, source_language, target_language) -> translated text, or None on failure
Translate = Callable[[str, str, str], str | None]


@dataclass
class Context:
    alert: Alert
    language: str
    config: Config
    catalogs: Catalogs
    translate: Translate | None = None
    machine_translated: bool = False
    untranslated: bool = False  # free text reached this reader in Japanese only
    notes: list[str] = field(default_factory=list)

    def t(self, key: str, /, **values: Any) -> str:
        return self.catalogs.text(self.language, key, **values)

    def opt(self, key: str, /, **values: Any) -> str | None:
        return self.catalogs.optional(self.language, key, **values)

    def when(self, value: dt.datetime | str | None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return format_jst(value, self.language, self.config.language(self.language).babel_locale)

    def ward_names(self, codes: tuple[str, ...] | list[str] | None = None) -> str:
        codes = self.alert.wards if codes is None else codes
        if not codes:
            return ""
        if set(codes) >= set(self.config.ward_codes):
            return self.config.city_display_name(self.language)
        sep = self.t("list.separator")
        return sep.join(
            self.config.ward(c).name(self.language, self.config.fallback_languages) for c in codes
        )

    def free_text(self, ja_text: str) -> str:
        """Operator or source text in this language: the supplied translation,
        else machine translation (marked), else the Japanese original with a note."""
        alert = self.alert
        if alert.texts.get(self.language):
            return alert.texts[self.language]
        if self.language == "ja" or not ja_text:
            return ja_text
        if self.translate is not None:
            translated = self.translate(ja_text, "ja", self.language)
            if translated:
                self.machine_translated = True
                return translated
        # Translator down or absent: an official English text if any, else Japanese.
        fallback = alert.texts.get("en") if self.language != "ja-easy" else None
        if fallback is None and self.language != "ja-easy":
            self.untranslated = True
        note = self.t("note.translation_unavailable")
        if note not in self.notes:
            self.notes.append(note)
        return fallback or ja_text


Composer = Callable[[Context], list[str]]
COMPOSERS: dict[Kind, Composer] = {}


def composer(*kinds: Kind) -> Callable[[Composer], Composer]:
    def register(fn: Composer) -> Composer:
        for k in kinds:
            COMPOSERS[k] = fn
        return fn

    return register


@composer(Kind.CITY_NOTICE, Kind.OTHER)
def _city_notice(ctx: Context) -> list[str]:
    a = ctx.alert
    lines = [ctx.t("city_notice.title", city=ctx.config.city_display_name(ctx.language))]
    headline = ctx.free_text(a.headline_ja) if a.headline_ja else ""
    body = ctx.free_text(a.body_ja) if a.body_ja else ""
    if headline and headline != body:
        lines.append(headline)
    if body:
        lines.append(body)
    return lines


def _generic(ctx: Context) -> list[str]:
    """Any kind without a composer of its own: the source's words."""
    return _city_notice(ctx)


def compose(ctx: Context) -> str:
    a = ctx.alert
    blocks: list[str] = []
    if a.test:
        blocks.append(ctx.t("common.test_banner"))
    if a.msg_type is MsgType.UPDATE:
        blocks.append(ctx.t("common.update_lead"))
    elif a.msg_type is MsgType.CANCEL:
        blocks.append(ctx.t("common.cancel_lead"))
    body = COMPOSERS.get(a.kind, _generic)(ctx)
    blocks.extend(line for line in body if line)
    if a.wards:
        blocks.append(ctx.t("common.wards", wards=ctx.ward_names()))
    blocks.append(ctx.t("common.issued", time=ctx.when(a.issued)))
    if ctx.machine_translated:
        blocks.append(ctx.t("note.machine_translated"))
    blocks.extend(ctx.notes)
    if a.test:
        blocks.append(ctx.t("common.test_banner"))
    return "\n".join(blocks)
