"""Rendering: an alert into text for each (language, channel), fitted to the channel.

Structured alerts come from vetted templates (``templates/*.po``); free text
from operators goes through machine translation, labelled as such. Text longer
than a channel's limit is split into numbered parts, never cut.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.config import Config
from bot.domain import Alert
from bot.errors import ValidationError
from bot.render import follow_ups, kinds  # noqa: F401  (register the composers)
from bot.render.catalog import Catalogs
from bot.render.compose import Context, Translate, compose
from bot.render.split import split_text
from channels.base import Limits
from channels.lengths import measure


@dataclass(frozen=True, kw_only=True)
class Rendering:
    language: str
    channel: str
    parts: tuple[str, ...]
    lengths: tuple[int, ...]
    limit: int
    machine_translated: bool
    untranslated: bool = False  # free text left in Japanese: no text, no translation
    buttons: tuple[tuple[str, str], ...] = ()  # (label, data) under the last part


class Renderer:
    def __init__(self, config: Config, catalogs: Catalogs,
                 translate: Translate | None = None, now: dt.datetime | None = None) -> None:
        self.config = config
        self.catalogs = catalogs
        self.translate = translate
        self.now = now  # what "this year" is judged against in dates (None: the clock)

    def text(self, alert: Alert, language: str) -> tuple[str, bool]:
        ctx = self.context(alert, language)
        return compose(ctx), ctx.machine_translated

    def context(self, alert: Alert, language: str) -> Context:
        return Context(alert=alert, language=language, config=self.config,
                       catalogs=self.catalogs, translate=self.translate, now=self.now)

    def render_all(self, alert: Alert, language: str,
                   limits: Mapping[str, Limits]) -> list[Rendering]:
        """``alert`` in ``language`` fitted to each channel (composed once)."""
        ctx = self.context(alert, language)
        text = compose(ctx)
        return [dataclasses.replace(
            self.fit(text, language, name, lim, machine_translated=ctx.machine_translated),
            untranslated=ctx.untranslated, buttons=tuple(ctx.buttons))
            for name, lim in limits.items()]

    def render(self, alert: Alert, language: str, channel: str, limits: Limits) -> Rendering:
        text, mt = self.text(alert, language)
        return self.fit(text, language, channel, limits, machine_translated=mt)

    def fit(self, text: str, language: str, channel: str, limits: Limits, *,
            machine_translated: bool) -> Rendering:
        def m(s: str) -> int:
            return measure(s, limits.length_unit)

        parts = split_text(text, limits.text_limit, m, max_parts=None)
        if limits.max_parts is not None and len(parts) > limits.max_parts:
            parts = self._cut(text, channel, limits, m, len(parts))
        return Rendering(language=language, channel=channel, parts=tuple(parts),
                         lengths=tuple(m(p) for p in parts), limit=limits.text_limit,
                         machine_translated=machine_translated)


    def _cut(self, text: str, channel: str, limits: Limits, m: Callable[[str], int],
             needed: int) -> list[str]:
        """A text longer than the channel takes: with ``[render] more_info_url`` the
        beginning, in as many parts as allowed, ending with the link; otherwise
        :class:`~bot.errors.ValidationError` (refused at issue time, never sent)."""
        url = self.config.section("render").get("more_info_url")
        assert limits.max_parts is not None
        if not isinstance(url, str) or not url:
            raise ValidationError(
                f"the {channel} message would need {needed} parts and {channel} takes at "
                f"most {limits.max_parts}: shorten the text, or set [render] more_info_url "
                "to send the beginning with a link")
        tail = f"… {url}"
        # Start from the share of the text that fits, then shorten by a tenth at a time.
        cut = text[: int(len(text) * (limits.max_parts - 1) / needed)]
        while True:
            parts = split_text(cut.rstrip() + tail, limits.text_limit, m)
            if len(parts) <= limits.max_parts or not cut:
                return parts
            cut = cut[: int(len(cut) * 0.9)]


def load_renderer(config: Config, translate: Translate | None = None) -> Renderer:
    from bot.config import TEMPLATES_DIR

    catalogs = Catalogs.load(TEMPLATES_DIR, config.languages, config.fallback_languages)
    return Renderer(config, catalogs, translate)


__all__ = ["Context", "Renderer", "Rendering", "load_renderer"]
