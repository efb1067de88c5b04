"""CAP alerts in their sender's own words, whatever their kind.

A CAP alert is never dressed in JMA's wording: its text comes from its ``<info>``
blocks, chosen for the reader in this order (:func:`choose`):

1. the infos in the reader's language (``zh-TW`` serves 繁體中文, ``fil`` Tagalog ...;
   Japanese serves やさしい日本語 readers, who never get machine translation);
2. the sender's English, with a note that the sender gave no text in the reader's
   language (a reader of English never sees it);
3. a machine translation of the sender's text (through the renderer's translator,
   labelled as machine-translated);
4. the sender's text as written, with a note that no translation is available.

The first line is the key fact, as a phone's notification shows only that line:
how strong (CAP severity; left out once the sender gives the all-clear), what (the
sender's headline, else its event), where in the city (the wards, unless the
headline names them) and what to do now (the CAP response types). Then the
update/cancel lead, the sender's instruction (what to do, in full), the description,
urgency and certainty, until when, who sent it, the web page and the contact. Every
word of ours is a vetted catalog message tied to a CAP field; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import Cap, CapCertainty, CapInfo, CapResponse, CapSeverity, CapUrgency, MsgType
from bot.render.compose import Context, source_composer

# CAP language tags (lower case) that serve each reader language besides its own tag.
SERVES: dict[str, tuple[str, ...]] = {
    "ja-easy": ("ja",),
    "zh-Hans": ("zh-cn", "zh-sg", "zh-hans-cn", "zh"),
    "zh-Hant": ("zh-tw", "zh-hk", "zh-mo", "zh-hant-tw"),
    "tl": ("fil",),
    "id": ("in",),
}
_SEVERITIES = (CapSeverity.EXTREME, CapSeverity.SEVERE, CapSeverity.MODERATE, CapSeverity.MINOR)
_URGENCIES = (CapUrgency.IMMEDIATE, CapUrgency.EXPECTED, CapUrgency.FUTURE, CapUrgency.PAST)
_CERTAINTIES = (CapCertainty.OBSERVED, CapCertainty.LIKELY, CapCertainty.POSSIBLE,
                CapCertainty.UNLIKELY)


def serves(info_language: str, reader: str) -> bool:
    """Does text in ``info_language`` (a normalised CAP tag) serve ``reader``?"""
    tag = info_language.casefold()
    return tag == reader.casefold() or tag in SERVES.get(reader, ())


def reader_tag(info_language: str, languages: tuple[str, ...]) -> str:
    """Our tag for a CAP language (``zh-TW`` -> ``zh-Hant``), for the translator."""
    for ours in languages:
        if ours != "ja-easy" and serves(info_language, ours):
            return ours
    return info_language


def _has_text(info: CapInfo) -> bool:
    return bool(info.headline or info.description or info.instruction or info.event)


@dataclass(frozen=True)
class Words:
    """The sender's words for one reader: per info, headline, description, instruction."""

    infos: tuple[CapInfo, ...]
    texts: tuple[tuple[str, str, str], ...]


def _as_written(infos: list[CapInfo]) -> Words:
    return Words(tuple(infos), tuple((i.headline or i.event, i.description, i.instruction)
                                     for i in infos))


def choose(ctx: Context, cap: Cap) -> Words:
    """The sender's words for this reader (see the module docstring for the order)."""
    with_text = [i for i in cap.infos if _has_text(i)]
    if not with_text:
        return Words((), ())
    own = [i for i in with_text if serves(i.language, ctx.language)]
    if own:
        return _as_written(own)
    english = [i for i in with_text if i.language == "en"]
    if english:
        words = _as_written(english)
        _note_before_body(ctx, words, "note.sender_english")
        return words
    source_language = with_text[0].language
    original = [i for i in with_text if i.language == source_language]
    if ctx.translate is not None and ctx.language != "ja-easy":
        source = reader_tag(source_language, ctx.config.languages)
        translated = []
        for head, description, instruction in _as_written(original).texts:
            parts = [ctx.translate(t, source, ctx.language) if t else "" for t in
                     (head, description, instruction)]
            if any(p is None for p in parts):
                break
            translated.append((parts[0] or "", parts[1] or "", parts[2] or ""))
        else:
            ctx.machine_translated = True
            return Words(tuple(original), tuple(translated))
    words = _as_written(original)
    _note_before_body(ctx, words, "note.translation_unavailable")
    ctx.untranslated = True
    return words


def _note_before_body(ctx: Context, words: Words, note_key: str) -> None:
    """Say that the sender's words below are not in the reader's language. The note
    goes right before the first text it is about, but the headline keeps the first
    line (the key fact, all a phone notification shows)."""
    note = ctx.t(note_key)
    if note not in ctx.notes:
        ctx.notes.append(note)
    rest = [t for _, description, instruction in words.texts
            for t in (description, instruction) if t]
    ctx.original_texts.extend(rest or [head for head, _, _ in words.texts if head])


def _named(ctx: Context, text: str) -> bool:
    """Does ``text`` name every ward of the alert (or the city, for all of them)?"""
    cfg, codes = ctx.config, ctx.alert.wards
    languages = (ctx.language, "ja") if ctx.language == "ja-easy" else (ctx.language,)
    if set(codes) >= set(cfg.ward_codes):
        return any(cfg.city_display_name(lang) in text for lang in languages)
    return all(any(cfg.ward(c).name(lang, cfg.fallback_languages) in text for lang in languages)
               for c in codes)


def _first_line(ctx: Context, info: CapInfo | None, head: str) -> str:
    line = head
    where = ctx.ward_names()
    if where and not _named(ctx, line):
        line = ctx.t("cap.line.where", text=line, area=where)
    over = info is not None and CapResponse.ALL_CLEAR in info.response_types
    if info is not None and info.severity in _SEVERITIES and not over:
        line = ctx.t("cap.line.severity", text=line,
                     severity=ctx.t(f"cap.severity.{info.severity.value.lower()}"))
    actions = [ctx.t(f"cap.response.{r.value.lower()}") for r in
               (info.response_types if info else ()) if r is not CapResponse.NONE]
    if actions:
        line = ctx.t("cap.line.action", text=line,
                     action=ctx.t("list.separator").join(dict.fromkeys(actions)))
    return line


def _details(ctx: Context, info: CapInfo) -> list[str]:
    facts = []
    if info.urgency in _URGENCIES:
        facts.append(ctx.t(f"cap.urgency.{info.urgency.value.lower()}"))
    if info.certainty in _CERTAINTIES:
        facts.append(ctx.t(f"cap.certainty.{info.certainty.value.lower()}"))
    lines = [" / ".join(facts)] if facts else []
    if info.expires is not None:
        lines.append(ctx.t("cap.expires", time=ctx.when(info.expires)))
    if info.sender_name:
        lines.append(ctx.t("cap.sender", sender=info.sender_name))
    if info.web:
        lines.append(ctx.t("cap.web", url=info.web))
    if info.contact:
        lines.append(ctx.t("cap.contact", contact=info.contact))
    return lines


@source_composer(Cap)
def cap_alert(ctx: Context) -> list[str]:
    cap = ctx.payload(Cap)
    words = choose(ctx, cap)
    info = words.infos[0] if words.infos else None
    head = words.texts[0][0] if words.texts else ""
    lead = {MsgType.UPDATE: "cap.update_lead", MsgType.CANCEL: "cap.cancel_lead"}.get(
        ctx.alert.msg_type)
    lines = [_first_line(ctx, info, head)] if head else []
    if lead:
        lines.append(ctx.t(lead))
    for i, (headline, description, instruction) in enumerate(words.texts):
        if i and headline:
            lines.append(headline)
        if instruction:
            lines.append(ctx.t("cap.instruction", text=instruction))
        if description and description != headline:
            lines.append(description)
    if not ctx.alert.wards:
        areas = list(dict.fromkeys(a.description for i in words.infos for a in i.areas
                                   if a.description))
        if areas:
            lines.append(ctx.t("common.wards", wards=ctx.t("list.separator").join(areas)))
    if info is not None:
        lines.extend(_details(ctx, info))
    return lines
