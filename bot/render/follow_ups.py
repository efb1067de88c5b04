"""What a lifting and a cancellation say.

A *lift* ends an order or warning that was right; a *cancel* withdraws a message
sent in error. Neither repeats the instructions of the message it follows up:
"everyone must evacuate" under "LIFTED" or "CANCELLED" would tell the reader the
opposite of what is true. The first line is the key fact, since a phone
notification shows only that line::

    LIFTED: Evacuation Instruction (Chuo Ward)          CANCELLED: the message about the
    The evacuation order has ended. On your way …       Evacuation Instruction (Chuo Ward)
    <the operator's text>                               was sent in error
                                                        Disregard that message …
                                                        Reason: <the operator's reason>

A lifting whose payload itself reports the end (a JMA report with every warning
for the city 解除, a lifted landslide alert or volcanic warning, tsunami warnings
lifted on the city's coasts) keeps its kind's lines, which say what ended, under
the first line. Any other lifting (an operator's, a CAP sender's) says what ended
in words of its kind (evacuation, shelter, warning, else generic), then the
operator's or sender's own text.
"""

from __future__ import annotations

from bot.domain import (
    Cap,
    Evacuation,
    Kind,
    Landslide,
    LandslideStatus,
    MegaquakeLevel,
    MegaquakeNotice,
    MsgType,
    Shelter,
    Tsunami,
    TsunamiKind,
    Volcano,
    VolcanoStatus,
    WarningStatus,
    WeatherWarning,
)
from bot.render import terms
from bot.render.compose import FOLLOW_UPS, Context, composer_for, kind_body, source_words
from bot.render.kinds._common import source_text_ja
from bot.render.kinds.weather import warning_name
from bot.shelters import find_shelter

JMA = "jma"  # the source name of JMA reports (bot.ingest.jma_common.SOURCE)
CAP = "cap"

_WARNINGS = (Kind.WEATHER_WARNING, Kind.LANDSLIDE, Kind.TSUNAMI, Kind.VOLCANO,
             Kind.HEAVY_RAIN)
_LIFT_BODY = {Kind.EVACUATION: "lift.body.evacuation", Kind.SHELTER: "lift.body.shelter",
              **{k: "lift.body.warning" for k in _WARNINGS}}
_ENDED_TSUNAMI = (TsunamiKind.LIFTED, TsunamiKind.FORECAST, TsunamiKind.NONE)


def subject(ctx: Context) -> str:
    """What the earlier message was about, as a noun phrase: the order's official
    name, the shelter's name, the warnings' names, else the kind."""
    a, p = ctx.alert, ctx.alert.payload
    sep = ctx.t("list.separator")
    if isinstance(p, Evacuation):
        return ctx.t(f"term.evacuation.{int(p.level)}")
    if isinstance(p, Shelter):
        names = [s.name for s in map(find_shelter, p.shelter_ids) if s is not None]
        if names:
            return ctx.t("subject.shelter.named", names=sep.join(names))
    if isinstance(p, WeatherWarning):
        names = [warning_name(ctx, w.code, w.name_ja or None, w.level)
                 for w in p.warnings if w.code != "00"]
        if names:
            return sep.join(dict.fromkeys(names))
    if isinstance(p, Volcano):
        name = terms.volcano_name(p.volcano_code, ctx.language, p.volcano_name_ja)
        if name:
            return ctx.t("subject.volcano.named", volcano=name)
    if isinstance(p, MegaquakeNotice):
        return ctx.t(f"megaquake.name.{p.region.value}")
    if isinstance(p, Cap):  # the sender's own name for it, in the reader's language
        for want in (ctx.language, "en" if ctx.language not in ("ja", "ja-easy") else "ja"):
            event = next((i.event for i in p.infos if i.event and (i.language or "")
                          .lower().startswith(want.split("-")[0].lower())), None)
            if event:
                return event
    return ctx.t(f"subject.{a.kind.value}")


def _title(ctx: Context, key: str, what: str) -> str:
    if ctx.alert.wards:
        return ctx.t(key, subject=what, area=ctx.ward_names())
    return ctx.t(f"{key}.no_area", subject=what)


def reports_its_end(ctx: Context) -> bool:
    """The payload is a source's report that the warning has ended (JMA 解除)."""
    p = ctx.alert.payload
    if isinstance(p, MegaquakeNotice):
        return p.level in (MegaquakeLevel.ENDED, MegaquakeLevel.CALL_ENDED)
    if composer_for(ctx.alert) is None:
        return False
    if isinstance(p, WeatherWarning):
        items = [w for w in p.warnings if w.code != "00"]
        return bool(items) and all(w.status is WarningStatus.LIFTED for w in items)
    if isinstance(p, Landslide):
        return p.status is LandslideStatus.LIFTED
    if isinstance(p, Volcano):
        return p.status is VolcanoStatus.LIFTED
    if isinstance(p, Tsunami):
        kinds = {area.kind for area in p.areas}
        return TsunamiKind.LIFTED in kinds and kinds <= set(_ENDED_TSUNAMI)
    return False


def _own_text(ctx: Context, text_ja: str) -> list[str]:
    """The operator's text (the follow-up's body, never the original's headline) in
    this language; やさしい日本語 is not machine-translated."""
    a = ctx.alert
    if not text_ja and not a.texts:
        return []
    if ctx.language == "ja-easy" and not a.texts.get("ja-easy"):
        return [text_ja] if text_ja else []
    if not text_ja:
        return [ctx.foreign_text()]
    return [ctx.free_text(text_ja)]


def lift_lines(ctx: Context) -> list[str]:
    a = ctx.alert
    key = "lift.title.shelter" if a.kind is Kind.SHELTER else "lift.title"
    lines = [_title(ctx, key, subject(ctx))]
    if reports_its_end(ctx):
        return lines + kind_body(ctx)[1:]  # the kind's own title would say it twice
    lines.append(ctx.t(_LIFT_BODY.get(a.kind, "lift.body")))
    if a.source == CAP:
        return lines + source_words(ctx)
    return lines + _own_text(ctx, a.body_ja)


def cancel_lines(ctx: Context) -> list[str]:
    a = ctx.alert
    lines = [_title(ctx, "cancel.title", subject(ctx)), ctx.t("cancel.body")]
    if a.source == JMA:
        # JMA's own words ("…を取り消します"), for Japanese readers; never the Body of
        # a report, which could repeat what is withdrawn.
        return lines + source_text_ja(ctx, a.headline_ja)
    if isinstance(a.payload, Cap):
        # A CAP cancellation may carry the original's <info>: only its <note> is the
        # sender's reason.
        note = (a.payload.note or "").strip()
        return lines + ([ctx.t("cancel.reason", reason=note)] if note else [])
    reason = _own_text(ctx, a.body_ja)
    return lines + [ctx.t("cancel.reason", reason=r) for r in reason]


FOLLOW_UPS[MsgType.LIFT] = lift_lines
FOLLOW_UPS[MsgType.CANCEL] = cancel_lines
