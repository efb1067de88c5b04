"""Turn an alert into the text of one language, before any channel splitting.

A composer per alert kind builds the body from catalog messages and the
alert's typed payload; :func:`compose` adds what every message has: the test
banner, the correction lead, the wards, the time. A lifting or a cancellation
has a text of its own (:mod:`bot.render.follow_ups`): it never repeats the
instructions of the message it ends or withdraws.

Composers for more kinds register themselves with :func:`composer`, naming the
payload class they read. An alert of that kind with a payload of another class
(staff free text) is rendered in its source's own words instead (:func:`_generic`):
a composer never guesses structured values it was not given. A CAP alert always
has the CAP composer (:func:`source_composer`, ``kinds/cap.py``), whatever its kind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.config import Config
from bot.domain import Alert, Kind, MsgType, Payload
from bot.render.catalog import Catalogs
from bot.render.timefmt import format_jst

# translate(text, source_language, target_language) -> translated text, or None on failure
Translate = Callable[[str, str, str], str | None]
P = TypeVar("P", bound=Payload)


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
    # texts shown in a language other than the reader's; the note goes before the first
    original_texts: list[str] = field(default_factory=list)
    now: dt.datetime | None = None  # what "this year" is judged against (None: the clock)
    # reply buttons under the message: (label, data), data as in bot.signup
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def t(self, key: str, /, **values: Any) -> str:
        return self.catalogs.text(self.language, key, **values)

    def payload(self, cls: type[P]) -> P:
        """The alert's payload as the class the composer registered for."""
        payload = self.alert.payload
        if not isinstance(payload, cls):
            raise TypeError(f"composer for {cls.__name__} got a {type(payload).__name__}")
        return payload

    def opt(self, key: str, /, **values: Any) -> str | None:
        return self.catalogs.optional(self.language, key, **values)

    def when(self, value: dt.datetime | str | None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return format_jst(value, self.language, self.config.language(self.language).babel_locale,
                          now=self.now)

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
        return self._untranslated(fallback or ja_text)

    def _untranslated(self, text: str) -> str:
        """``text`` shown as written, with a note placed before it by :func:`compose`."""
        note = self.t("note.translation_unavailable")
        if note not in self.notes:
            self.notes.append(note)
        self.original_texts.append(text)
        return text


    def foreign_text(self) -> str:
        """The text of a source that wrote no Japanese (a CAP alert from abroad, an
        English feed): its text in this language, else a machine translation of its
        English (else first) text, else that text with a note."""
        texts = self.alert.texts
        if texts.get(self.language):
            return texts[self.language]
        source = "en" if "en" in texts else next(iter(texts))
        if self.translate is not None:
            translated = self.translate(texts[source], source, self.language)
            if translated:
                self.machine_translated = True
                return translated
        return self._untranslated(texts[source])


Composer = Callable[[Context], list[str]]
COMPOSERS: dict[Kind, Composer] = {}
PAYLOADS: dict[Kind, type[Payload]] = {}  # the payload class a kind's composer reads
# Composers of a source format whatever the kind (a CAP alert in its sender's words):
# they write the body from its key fact down, their own update/cancel lead included.
SOURCE_COMPOSERS: dict[type[Payload], Composer] = {}


# Further composers of a kind for another payload class (a typhoon report is a
# weather_warning with a Typhoon payload; an R06 土砂災害 warning a landslide with a
# WeatherWarning payload): (kind, payload class) -> composer.
BY_PAYLOAD: dict[tuple[Kind, type[Payload]], Composer] = {}


def composer(*kinds: Kind, payload: type[Payload] | None = None
             ) -> Callable[[Composer], Composer]:
    """Register ``fn`` for ``kinds``; the first composer of a kind is its main one
    (PAYLOADS), a later one with another payload class is chosen by that class."""
    def register(fn: Composer) -> Composer:
        for k in kinds:
            if payload is not None:
                BY_PAYLOAD[(k, payload)] = fn
                if k in PAYLOADS and PAYLOADS[k] is not payload:
                    continue
                PAYLOADS[k] = payload
            COMPOSERS[k] = fn
        return fn

    return register


def composer_for(alert: Alert) -> Composer | None:
    """The composer that reads this alert's payload, if any."""
    own = (PAYLOAD_COMPOSERS.get(type(alert.payload))
           or BY_PAYLOAD.get((alert.kind, type(alert.payload))))
    if own is not None:
        return own
    wanted = PAYLOADS.get(alert.kind)
    if wanted is not None and not isinstance(alert.payload, wanted):
        return None
    return COMPOSERS.get(alert.kind)


def source_composer(payload: type[Payload]) -> Callable[[Composer], Composer]:
    def register(fn: Composer) -> Composer:
        SOURCE_COMPOSERS[payload] = fn
        return fn

    return register


def source_words(ctx: Context) -> list[str]:
    """The source's headline and body in this language."""
    a = ctx.alert
    if not (a.headline_ja or a.body_ja) and a.texts:
        return [ctx.foreign_text()]
    headline = ctx.free_text(a.headline_ja) if a.headline_ja else ""
    body = ctx.free_text(a.body_ja) if a.body_ja else ""
    lines = []
    if headline and headline != body:
        lines.append(headline)
    if body:
        lines.append(body)
    return lines


@composer(Kind.CITY_NOTICE, Kind.OTHER)
def _city_notice(ctx: Context) -> list[str]:
    city = ctx.config.city_display_name(ctx.language)
    return [ctx.t("city_notice.title", city=city), *source_words(ctx)]


# Titles that claim nothing beyond the kind, for alerts without structured values.
_PLAIN_TITLES = {Kind.EVACUATION: "evacuation.title", Kind.SHELTER: "shelter.title",
                 Kind.LIFELINE: "lifeline.title"}


def _generic(ctx: Context) -> list[str]:
    """An alert whose payload the kind's composer does not read (a CAP alert, staff
    free text), or a kind without a composer: the source's words."""
    key = _PLAIN_TITLES.get(ctx.alert.kind)
    if key is None:
        return _city_notice(ctx)
    return [ctx.t(key), *source_words(ctx)]


# Composers of a payload class that shares its kind with another (a megaquake notice
# is an earthquake alert; offshore tsunami observations a tsunami alert). They write
# their whole body from the key fact down, an update's lead included.
PAYLOAD_COMPOSERS: dict[type[Payload], Composer] = {}


def payload_composer(payload: type[Payload]) -> Callable[[Composer], Composer]:
    def register(fn: Composer) -> Composer:
        PAYLOAD_COMPOSERS[payload] = fn
        return fn

    return register


def kind_body(ctx: Context) -> list[str]:
    """The lines of the alert's kind: its composer's, or the source's own words."""
    return (composer_for(ctx.alert) or _generic)(ctx)


# A lifting's and a cancellation's text (bot.render.follow_ups registers them).
FOLLOW_UPS: dict[MsgType, Composer] = {}


def compose(ctx: Context) -> str:
    a = ctx.alert
    blocks: list[str] = []
    if a.test:
        blocks.append(ctx.t("common.test_banner"))
    own = SOURCE_COMPOSERS.get(type(a.payload))
    if own is None and a.msg_type is MsgType.UPDATE \
            and type(a.payload) not in PAYLOAD_COMPOSERS:
        blocks.append(ctx.t("common.update_lead"))
    if own is not None and a.msg_type in (MsgType.ALERT, MsgType.UPDATE):
        body = own(ctx)  # the source's own words
    # A lifting or a cancellation never repeats the instructions of what it ends.
    elif a.msg_type in FOLLOW_UPS:
        body = FOLLOW_UPS[a.msg_type](ctx)
    else:
        body = kind_body(ctx)
    blocks.extend(line for line in body if line)
    if a.wards:
        blocks.append(ctx.t("common.wards", wards=ctx.ward_names()))
    blocks.append(ctx.t("common.issued", time=ctx.when(a.issued)))
    if ctx.machine_translated:
        blocks.append(ctx.t("note.machine_translated"))
    _place_notes(blocks, ctx)
    if a.test:
        blocks.append(ctx.t("common.test_banner"))
    # Official texts sometimes carry doubled spaces (JMA's １０ｍ超　　巨大な津波…).
    return _SPACES.sub(lambda m: m.group(0)[0], "\n".join(blocks))


_SPACES = re.compile(r"( {2,}|\u3000{2,})")


def _place_notes(blocks: list[str], ctx: Context) -> None:
    """The translation note goes right before the first text shown untranslated (it
    says "the original is shown below" in some languages), else at the end."""
    at = next((i for i, block in enumerate(blocks)
               if any(t and t in block for t in ctx.original_texts)), len(blocks))
    blocks[at:at] = ctx.notes
