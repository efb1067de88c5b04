"""Where am I, and where is my shelter: a shared location (or a typed ward name or
address) answered with its ward, the alerts in force there and the nearest shelters.

The location is used for this one answer and never stored or logged; the reply
offers a button (``addward:<code>``) that subscribes to the ward, and only the ward
is kept. A shelter's open or closed state is the city's latest shelter alert about
it (:func:`bot.store.residents.shelter_states`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import unicodedata

from babel.numbers import format_decimal

from bot.config import Ward
from bot.domain import Subscriber
from bot.errors import ValidationError
from bot.freshness import Freshness
from bot.geo import distance_km
from bot.places import resolve_ward
from bot.shelters import Shelter, shelters_for
from bot.signup.common import Button, Conversation, Reply, match_language
from bot.signup.state import SIGNING_UP, State, load, save
from bot.store import residents as store
from bot.wardmap import ward_at

NEAREST = 3
_SPACE = re.compile(r"\s+")


def nearest(shelters: list[Shelter], lat: float, lon: float, n: int = NEAREST
            ) -> list[tuple[Shelter, float]]:
    """The ``n`` shelters nearest to (lat, lon) with their great-circle distance in km
    (ties by id)."""
    located = [(s, distance_km(lat, lon, s.lat, s.lon)) for s in shelters
               if s.lat is not None and s.lon is not None]
    return sorted(located, key=lambda item: (item[1], item[0].id))[:n]


def valid_point(lat: object, lon: object) -> tuple[float, float] | None:
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        return None
    return la, lo


class Locator:
    def __init__(self, conversation: Conversation, freshness: Freshness) -> None:
        self.conv = conversation
        self.freshness = freshness

    def _lang(self, user_id: str, hint: str | None) -> str:
        with self.conv.engine.connect() as conn:
            rec = load(conn, self.conv.channel, user_id)
        return self.conv._language_of(rec, hint)

    # ------------------------------------------------------------ entry points

    def at(self, user_id: str, lat: object, lon: object, hint: str | None = None
           ) -> list[Reply]:
        """A location shared in the chat."""
        conv, lang = self.conv, self._lang(user_id, hint)
        point = valid_point(lat, lon)
        code = ward_at(point[0], point[1], conv.config) if point else None
        if point is None or code is None:
            return [Reply(conv.t(lang, "location.outside",
                                 city=conv.config.city_display_name(lang)))]
        ward = conv.config.ward(code)
        shelters = nearest(list(shelters_for(conv.config).values()), *point)
        return [self._reply(lang, ward, shelters)]

    def typed(self, user_id: str, text: str, hint: str | None = None) -> list[Reply] | None:
        """A ward name (東区, Higashi, Quận Higashi) or an address in the city (熊本市東区…)
        typed instead of a location; None when the text names no ward."""
        ward = self._ward_in(text)
        if ward is None:
            return None
        return [self._reply(self._lang(user_id, hint), ward, None)]

    def prompt(self, user_id: str, hint: str | None = None) -> list[Reply]:
        lang = self._lang(user_id, hint)
        return [Reply(self.conv.t(lang, "location.prompt"))]

    def subscribe(self, user_id: str, value: str) -> list[Reply]:
        """``addward:<code>:<language>`` tapped: add the ward to the subscriber's wards,
        or subscribe with it in the language the reply was in."""
        conv = self.conv
        ward, _, shown_in = value.partition(":")
        try:
            (code,) = conv.config.check_wards([ward])
        except (ValueError, LookupError):
            return []
        language = match_language(shown_in, conv.config.languages, exact=True)
        with conv.engine.begin() as conn:
            rec = load(conn, conv.channel, user_id, lock=True)
            if rec is None or rec.state in SIGNING_UP or not rec.sub.active:
                lang = rec.sub.language if rec is not None else (
                    language or conv.config.default_language)
                base = rec.sub if rec is not None else Subscriber(
                    channel=conv.channel, user_id=user_id, language=lang, active=False)
                sub = dataclasses.replace(base, wards=(code,), active=True)
                save(conn, sub, State.DONE)
                return [conv.done(sub)]
            wards = tuple(w for w in conv.config.ward_codes if w in {*rec.sub.wards, code})
            sub = dataclasses.replace(rec.sub, wards=wards)
            save(conn, sub, rec.state)
        return [conv.saved(sub, rec.state)]

    # ------------------------------------------------------------ the reply

    def _ward_in(self, text: str) -> Ward | None:
        norm = _SPACE.sub("", unicodedata.normalize("NFKC", text)).strip()
        if not norm or len(norm) > 120:
            return None
        city = self.conv.config.city_name
        for w in self.conv.config.wards:  # an address: 熊本市東区東町…
            ja = w.names.get("ja", "")
            if ja and (f"{city}{ja}" in norm or norm.startswith(ja)):
                return w
        try:
            return resolve_ward(self.conv.config, text)
        except ValidationError:
            return None

    def _reply(self, lang: str, ward: Ward, shelters: list[tuple[Shelter, float]] | None
               ) -> Reply:
        conv = self.conv
        t = conv.t
        config = conv.config
        name = ward.name(lang, config.fallback_languages)
        blocks = [t(lang, "location.ward", ward=name, city=config.city_display_name(lang))]
        now = dt.datetime.now(dt.UTC)
        with conv.engine.connect() as conn:
            in_force = store.alerts_in_force(conn, (ward.code,), self.freshness, now)
            firsts = [store.rendered_parts(conn, a.shown_id, lang, conv.channel) for a in in_force]
            states = store.shelter_states(conn, [s.id for s, _ in shelters or ()])
        heads = [p[0].split("\n", 1)[0] for p in firsts if p]
        if heads:
            blocks.append("\n".join([t(lang, "location.alerts"), *(f"• {h}" for h in heads),
                                     t(lang, "location.alerts.more",
                                       latest=conv.command_label(lang, "latest"))]))
        else:
            blocks.append(t(lang, "location.alerts.none"))
        if shelters is None:
            blocks.append(t(lang, "location.share_for_shelters"))
        else:
            blocks.append(self._shelters(lang, shelters, states))
        blocks.append(t(lang, "location.privacy"))
        button = Button(t(lang, "location.subscribe", ward=name),
                        f"addward:{ward.code}:{lang}")
        return Reply("\n\n".join(blocks), (button,), columns=1)

    def _shelters(self, lang: str, shelters: list[tuple[Shelter, float]],
                  states: dict[str, bool]) -> str:
        t, config = self.conv.t, self.conv.config
        locale = config.language(lang).babel_locale
        lines = [t(lang, "location.shelters")]
        for i, (s, km) in enumerate(shelters, 1):
            opened = states.get(s.id)
            state = "unknown" if opened is None else "open" if opened else "closed"
            lines.append(t(lang, "location.shelter", n=str(i), name=s.name,
                           distance=t(lang, "location.distance",
                                      km=format_decimal(round(km, 1), "0.0", locale=locale)),
                           state=t(lang, f"location.state.{state}")))
            if s.address:
                lines.append(t(lang, "shelter.address", address=s.address))
            if s.hazards:
                sep = t(lang, "list.separator")
                lines.append(t(lang, "location.hazards", hazards=sep.join(
                    t(lang, f"hazard.{h}") for h in s.hazards)))
            url = s.map_url(config.map_url)
            if url:
                lines.append(t(lang, "shelter.map", url=url))
        lines.append(t(lang, "location.state.note"))
        return "\n".join(lines)
