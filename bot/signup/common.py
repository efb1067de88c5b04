"""The sign-up conversation, the same on every chat platform.

Three taps at most from the first message to a subscription::

    /start (or LINE follow) ──► language buttons ──tap──► area buttons ──tap──► subscribed
                                                                                (all kinds)
    /start vi-43101 (deep link from a poster) ─────────────────────────────────► subscribed

Kinds of alert default to all; ``/kinds`` offers "all", "warnings and evacuation
only" or a per-kind on/off list. Settings can be changed any time (``/language``,
``/area``, ``/kinds``), shown (``/status``), stopped (``/stop``) and erased
(``/erase``, which deletes the row: privacy). Replies are in the subscriber's
language. The state lives on the subscriber row (:mod:`bot.signup.state`); a user
who has not yet chosen an area has an inactive row and receives nothing.

Platforms call :class:`Conversation` methods (synchronous: they use the database;
run them with :func:`asyncio.to_thread`) and render the returned :class:`Reply`
objects: text plus buttons whose ``data`` comes back to :meth:`Conversation.choose`.
Button data is short ASCII (``lang:vi``, ``ward:43101``, ``kinds:all``), within
Telegram's 64-byte callback data and LINE's 300-character postback data.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from bot.config import Config
from bot.domain import Kind, Subscriber
from bot.errors import UnknownLanguageError, UnknownWardError
from bot.render.catalog import Catalogs
from bot.service import Service
from bot.signup.links import broadcast_channel_link
from bot.signup.state import SIGNING_UP, Record, State, load, save, set_state
from bot.store import alerts as alert_store
from bot.store import subscribers as store

log = logging.getLogger(__name__)

COMMANDS = ("start", "language", "area", "kinds", "status", "stop", "erase", "help")
# "Warnings and evacuation only": what threatens life, not notices and lifelines.
URGENT_KINDS = frozenset({Kind.EARTHQUAKE, Kind.EEW, Kind.TSUNAMI, Kind.WEATHER_WARNING,
                          Kind.LANDSLIDE, Kind.VOLCANO, Kind.HEAVY_RAIN, Kind.EVACUATION,
                          Kind.SHELTER})
# Kinds offered one by one (drills reach test subscribers only; "other" is not a choice).
CHOOSABLE_KINDS = tuple(k for k in Kind if k not in (Kind.DRILL, Kind.OTHER))

CommandLabel = Callable[[str, str], str]  # (language, command) -> what the user types


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    columns: int = 2
    replace: bool = False  # may replace the message whose button was tapped


@dataclass(frozen=True)
class Payload:
    """A deep-link payload: ``vi-43101`` (language and ward), ``vi-all``, ``vi``."""

    language: str
    wards: tuple[str, ...] | None = None


def match_language(tag: str | None, languages: Iterable[str], *, exact: bool = False
                   ) -> str | None:
    """The enabled tag for ``tag`` (case-insensitive; ``zh-hans`` → ``zh-Hans``), or
    unless ``exact``, the one enabled tag with the same primary subtag (``en-US``
    → ``en``), or None."""
    if not tag:
        return None
    langs = tuple(languages)
    wanted = tag.strip().replace("_", "-").casefold()
    for t in langs:
        if t.casefold() == wanted:
            return t
    if exact:
        return None
    primary = wanted.split("-")[0]
    same = [t for t in langs if t.casefold().split("-")[0] == primary]
    if len(same) == 1 and (same[0].casefold() == primary or "-" not in wanted):
        return same[0]
    return None


def parse_payload(payload: str | None, config: Config) -> Payload | None:
    """``vi-43101`` → Payload("vi", ("43101",)); ``vi-43101_43102`` two wards;
    ``vi-all`` the whole city; ``vi`` language only. None when it is not one."""
    text = (payload or "").strip()
    if not text or len(text) > 64:
        return None
    lang = match_language(text, config.languages, exact=True)
    if lang is not None:
        return Payload(lang)
    head, _, tail = text.rpartition("-")
    lang = match_language(head, config.languages, exact=True)
    if lang is None or not tail:
        return None
    if tail.lower() in ("all", "city"):
        return Payload(lang, config.ward_codes)
    try:
        return Payload(lang, config.check_wards(tail.split("_")))
    except UnknownWardError:
        return None


class Conversation:
    """One platform's side of the conversation. ``command_label`` says how a command
    is written on that platform (``/stop`` on Telegram, ``停止`` on LINE);
    ``max_buttons`` pages long button lists (LINE quick replies hold 13)."""

    def __init__(self, svc: Service, channel: str, *, command_label: CommandLabel,
                 max_buttons: int | None = None) -> None:
        self.channel = channel
        self.config: Config = svc.config
        self.catalogs: Catalogs = svc.renderer.catalogs
        self.engine: sa.Engine = svc.engine
        self.command_label = command_label
        self.max_buttons = max_buttons

    # ------------------------------------------------------------ text helpers

    def t(self, language: str, key: str, /, **values: str) -> str:
        return self.catalogs.text(language, key, **values)

    def language_name(self, tag: str) -> str:
        """The language's name in itself, from the languages table."""
        try:
            return self.config.language(tag).name
        except UnknownLanguageError:
            return tag

    def _cmd(self, language: str) -> dict[str, str]:
        return {c: self.command_label(language, c) for c in COMMANDS}

    def _language_of(self, rec: Record | None, hint: str | None) -> str:
        if rec is not None:
            return rec.sub.language
        return match_language(hint, self.config.languages) or self.config.default_language

    def area_text(self, sub: Subscriber) -> str:
        if not sub.wards or set(sub.wards) >= set(self.config.ward_codes):
            return self.t(sub.language, "signup.whole_city")
        sep = self.t(sub.language, "list.separator")
        return sep.join(self.config.ward(w).name(sub.language) for w in sub.wards)

    def kinds_text(self, sub: Subscriber) -> str:
        chosen = set(sub.kinds)
        if not chosen or chosen >= set(CHOOSABLE_KINDS):
            return self.t(sub.language, "signup.kinds.all")
        if chosen == URGENT_KINDS:
            return self.t(sub.language, "signup.kinds.urgent")
        sep = self.t(sub.language, "list.separator")
        return sep.join(self.t(sub.language, f"signup.kind.{k.value}") for k in CHOOSABLE_KINDS
                        if k in chosen)

    def status_text(self, sub: Subscriber, state: State | None) -> str:
        lang = sub.language
        if sub.active:
            head = self.t(lang, "signup.status.active")
        else:
            head = self.t(lang, "signup.status.inactive", start=self.command_label(lang, "start"))
        body = self.t(lang, "signup.status", language=self.language_name(lang),
                      area=self.area_text(sub), kinds=self.kinds_text(sub))
        return f"{head}\n\n{body}"

    # ------------------------------------------------------------ pickers

    def _paged(self, buttons: list[Button], page: int, more_prefix: str, language: str
               ) -> tuple[Button, ...]:
        limit = self.max_buttons
        if limit is None or len(buttons) <= limit:
            return tuple(buttons)
        per_page = limit - 1
        pages = (len(buttons) + per_page - 1) // per_page
        page = page % pages
        shown = buttons[page * per_page:(page + 1) * per_page]
        more = Button(self.t(language, "signup.more"), f"{more_prefix}:{(page + 1) % pages}")
        return (*shown, more)

    def language_picker(self, text: str, language: str, page: int = 0,
                        replace: bool = False) -> Reply:
        buttons = [Button(self.language_name(t), f"lang:{t}") for t in self.config.languages]
        return Reply(text, self._paged(buttons, page, "langs", language), replace=replace)

    def ward_picker(self, language: str, page: int = 0, replace: bool = False) -> Reply:
        buttons = [Button(w.name(language), f"ward:{w.code}") for w in self.config.wards]
        buttons.append(Button(self.t(language, "signup.whole_city"), "ward:all"))
        return Reply(self.t(language, "signup.choose_wards"),
                     self._paged(buttons, page, "wards", language), replace=replace)

    def kinds_picker(self, language: str) -> Reply:
        return Reply(self.t(language, "signup.choose_kinds"), (
            Button(self.t(language, "signup.kinds.all"), "kinds:all"),
            Button(self.t(language, "signup.kinds.urgent"), "kinds:urgent"),
            Button(self.t(language, "signup.kinds.custom"), "kinds:custom"),
        ), columns=1)

    def kinds_toggles(self, sub: Subscriber, replace: bool) -> Reply:
        chosen = set(sub.kinds) or set(Kind)
        lang = sub.language
        buttons = [Button(("✓ " if k in chosen else "") + self.t(lang, f"signup.kind.{k.value}"),
                          f"kind:{k.value}") for k in CHOOSABLE_KINDS]
        buttons.append(Button(self.t(lang, "signup.kinds.done"), "kinds:done"))
        return Reply(self.t(lang, "signup.kinds.toggle"), tuple(buttons), replace=replace)

    def welcome(self, language: str) -> str:
        """Welcome and "choose your language" in ``language`` then the default and
        fallback languages of the configuration (Japanese, English and やさしい日本語
        for 熊本市), each once."""
        paragraphs: list[str] = []
        for tag in (language, self.config.default_language, *self.config.fallback_languages):
            if tag not in self.config.languages:
                continue
            text = (self.t(tag, "signup.welcome", city=self.config.city_display_name(tag))
                    + "\n" + self.t(tag, "signup.choose_language"))
            if text not in paragraphs:
                paragraphs.append(text)
        return "\n\n".join(paragraphs)

    def done(self, sub: Subscriber) -> Reply:
        lang = sub.language
        return Reply(self.t(lang, "signup.done", kinds=self.command_label(lang, "kinds"))
                     + "\n\n" + self.t(lang, "signup.status", language=self.language_name(lang),
                                       area=self.area_text(sub), kinds=self.kinds_text(sub))
                     + self.channel_note(lang))

    def channel_note(self, language: str) -> str:
        """Where the language's Telegram broadcast channel is, as a paragraph to add
        (Telegram sign-ups only: the link opens in Telegram), or ""."""
        if self.channel != "telegram":
            return ""
        link = broadcast_channel_link(self.config, language)
        return "" if link is None else "\n\n" + self.t(language, "signup.channel", link=link)

    def saved(self, sub: Subscriber, state: State | None) -> Reply:
        return Reply(self.t(sub.language, "signup.saved") + "\n\n" + self.status_text(sub, state))

    # ------------------------------------------------------------ entry points

    def start(self, user_id: str, payload: str | None = None, hint: str | None = None
              ) -> list[Reply]:
        """/start, a LINE follow, or a deep-link payload typed or passed by the app."""
        with self.engine.begin() as conn:
            rec = load(conn, self.channel, user_id, lock=True)
            lang = self._language_of(rec, hint)
            base = rec.sub if rec is not None else Subscriber(
                channel=self.channel, user_id=user_id, language=lang, active=False)
            p = parse_payload(payload, self.config)
            if p is not None and p.wards:
                sub = dataclasses.replace(base, language=p.language, wards=p.wards, active=True)
                save(conn, sub, State.DONE)
                log.info("%s subscriber signed up by deep link (%s)", self.channel, p.language)
                return [self.done(sub)]
            if p is not None:
                save(conn, dataclasses.replace(base, language=p.language), State.WARDS)
                return [self.ward_picker(p.language)]
            save(conn, base, State.LANGUAGE)
        return [self.language_picker(self.welcome(lang), lang)]

    def unfollow(self, user_id: str) -> None:
        with self.engine.begin() as conn:
            if store.set_active(conn, self.channel, [user_id], False):
                set_state(conn, self.channel, user_id, State.STOPPED)

    def command(self, user_id: str, name: str, hint: str | None = None) -> list[Reply]:
        if name == "start":
            return self.start(user_id, None, hint)
        with self.engine.begin() as conn:
            rec = load(conn, self.channel, user_id, lock=True)
            lang = self._language_of(rec, hint)
            if name == "help":
                return [Reply(self.t(lang, "signup.help", **self._cmd(lang))
                              + self.channel_note(lang))]
            if name == "erase":
                erased = store.erase(conn, self.channel, user_id)
                if erased:
                    alert_store.audit(conn, "self-service", "subscriber_erase",
                                      channel=self.channel)
                    log.info("%s subscriber erased their data", self.channel)
                return [Reply(self.t(lang, "signup.erased",
                                     start=self.command_label(lang, "start")))]
            if rec is None:
                return [Reply(self.t(lang, "signup.status.none",
                                     start=self.command_label(lang, "start")))]
            if name == "stop":
                store.set_active(conn, self.channel, [user_id], False)
                set_state(conn, self.channel, user_id, State.STOPPED)
                return [Reply(self.t(lang, "signup.stopped",
                                     start=self.command_label(lang, "start")))]
            if name == "status":
                return [Reply(self.status_text(rec.sub, rec.state))]
        if name == "language":
            return [self.language_picker(self.t(lang, "signup.choose_language"), lang)]
        if name == "area":
            return [self.ward_picker(lang)]
        if name == "kinds":
            return [self.kinds_picker(lang)]
        raise ValueError(f"unknown sign-up command {name!r}")

    def unknown(self, user_id: str, hint: str | None = None) -> list[Reply]:
        with self.engine.connect() as conn:
            lang = self._language_of(load(conn, self.channel, user_id), hint)
        return [Reply(self.t(lang, "signup.unknown", help=self.command_label(lang, "help")))]

    def choose(self, user_id: str, data: str) -> list[Reply]:
        """A button was tapped. Stale or malformed data is ignored (no reply)."""
        prefix, _, value = data.partition(":")
        with self.engine.begin() as conn:
            rec = load(conn, self.channel, user_id, lock=True)
            if prefix == "lang":
                return self._choose_language(conn, user_id, rec, value)
            if prefix in ("langs", "wards") and value.isdigit():
                lang = self._language_of(rec, None)
                if prefix == "langs":
                    return [self.language_picker(self.t(lang, "signup.choose_language"), lang,
                                                 int(value), replace=True)]
                return [self.ward_picker(lang, int(value), replace=True)]
            if rec is None:
                lang = self.config.default_language
                return [Reply(self.t(lang, "signup.status.none",
                                     start=self.command_label(lang, "start")))]
            if prefix == "ward":
                return self._choose_wards(conn, rec, value)
            if prefix == "kinds":
                return self._choose_kinds(conn, rec, value)
            if prefix == "kind":
                return self._toggle_kind(conn, rec, value)
        log.info("%s: ignored button data with prefix %r", self.channel, prefix[:16])
        return []

    # ------------------------------------------------------------ choices

    def _choose_language(self, conn: sa.Connection, user_id: str, rec: Record | None,
                         value: str) -> list[Reply]:
        lang = match_language(value, self.config.languages)
        if lang is None:
            return []
        if rec is None:
            sub = Subscriber(channel=self.channel, user_id=user_id, language=lang, active=False)
            save(conn, sub, State.WARDS)
            return [self.ward_picker(lang)]
        sub = dataclasses.replace(rec.sub, language=lang)
        if rec.state in SIGNING_UP:
            save(conn, sub, State.WARDS)
            return [self.ward_picker(lang)]
        save(conn, sub, rec.state)
        return [self.saved(sub, rec.state)]

    def _choose_wards(self, conn: sa.Connection, rec: Record, value: str) -> list[Reply]:
        if value == "all":
            wards = self.config.ward_codes
        else:
            try:
                wards = self.config.check_wards([value])
            except UnknownWardError:
                return []
        if rec.state in SIGNING_UP or rec.state is None:
            sub = dataclasses.replace(rec.sub, wards=wards, active=True)
            save(conn, sub, State.DONE)
            log.info("%s subscriber signed up (%s)", self.channel, sub.language)
            return [self.done(sub)]
        sub = dataclasses.replace(rec.sub, wards=wards)
        save(conn, sub, rec.state)
        return [self.saved(sub, rec.state)]

    def _choose_kinds(self, conn: sa.Connection, rec: Record, value: str) -> list[Reply]:
        if value == "custom":
            return [self.kinds_toggles(rec.sub, replace=False)]
        if value == "all":
            sub = dataclasses.replace(rec.sub, kinds=())
        elif value == "urgent":
            sub = dataclasses.replace(rec.sub, kinds=tuple(k for k in Kind if k in URGENT_KINDS))
        elif value == "done":
            return [self.saved(rec.sub, rec.state)]
        else:
            return []
        save(conn, sub, rec.state)
        return [self.saved(sub, rec.state)]

    def _toggle_kind(self, conn: sa.Connection, rec: Record, value: str) -> list[Reply]:
        try:
            kind = Kind(value)
        except ValueError:
            return []
        chosen = set(rec.sub.kinds) or set(Kind)
        chosen ^= {kind}
        if not chosen & set(CHOOSABLE_KINDS):  # nothing left: keep at least this one
            return [self.kinds_toggles(rec.sub, replace=True)]
        kinds = () if chosen == set(Kind) else tuple(k for k in Kind if k in chosen)
        sub = dataclasses.replace(rec.sub, kinds=kinds)
        save(conn, sub, rec.state)
        return [self.kinds_toggles(sub, replace=True)]
