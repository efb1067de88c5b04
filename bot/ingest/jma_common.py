"""Parts shared by the JMA parsers: the Control/Head block, times, codes.

See :mod:`bot.ingest.jma` for the conventions (source_id, event_key, payloads).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.domain import (
    Alert,
    AlertPayload,
    CommentKind,
    JmaComment,
    Kind,
    MsgType,
    Severity,
    Urgency,
)
from bot.errors import IngestError, ValidationError
from bot.ingest.lifting import jma_msg_type
from bot.ingest.xmlsafe import child, children, text

JST = timezone(timedelta(hours=9), "JST")
SOURCE = "jma"

INFO_TYPES = {"発表": MsgType.ALERT, "訂正": MsgType.UPDATE, "取消": MsgType.CANCEL}
LIVE_STATUS = "通常"  # Control/Status of real reports; 訓練 (drill) and 試験 (test) are tests

_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")


def parse_time(value: str, *, what: str) -> datetime:
    """ISO 8601 with an offset -> aware datetime in JST."""
    if not value:
        raise IngestError(f"missing {what}", source=SOURCE)
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise IngestError(f"{what} is not an ISO 8601 time: {value!r}", source=SOURCE) from None
    if dt.tzinfo is None:
        raise IngestError(f"{what} has no UTC offset: {value!r}", source=SOURCE)
    try:
        return dt.astimezone(JST)
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is in the year 10000 in Japan
        raise IngestError(f"{what} is outside the calendar: {value!r}", source=SOURCE) from None


def optional_time(value: str) -> datetime | None:
    try:
        return parse_time(value, what="time") if value else None
    except IngestError:
        return None


def squash(value: str) -> str:
    """Strip ASCII and ideographic spaces at both ends of every line; drop blank lines."""
    lines = (line.strip(" \t\u3000") for line in value.splitlines())
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True, kw_only=True, slots=True)
class Head:
    """The Control and Head blocks of a JMA report."""

    control_title: str
    status: str
    editorial_office: str
    publishing_office: str
    title: str
    report_time: datetime
    target_time: datetime | None
    valid_time: datetime | None
    event_id: str
    info_type: str
    serial: str
    info_kind: str
    headline: str
    head: ET.Element
    body: ET.Element | None

    @property
    def msg_type(self) -> MsgType:
        return INFO_TYPES[self.info_type]

    @property
    def test(self) -> bool:
        return self.status != LIVE_STATUS

    @property
    def event_key(self) -> str:
        return f"jma:{self.info_kind}:{self.event_id}"

    @property
    def source_id(self) -> str:
        serial = self.serial or self.report_time.strftime("%Y%m%dT%H%M%S")
        key = f"{self.event_id}:{self.info_kind}:{serial}:{self.info_type}"
        # 津波情報 comes as several reports (満潮時刻・到達予想時刻, 津波観測) that share
        # EventID, InfoKind and Serial: the head title tells them apart.
        return key if self.title in ("", self.event_id, self.info_kind) else f"{key}:{self.title}"


def read_head(root: ET.Element) -> Head:
    control = child(root, "Control")
    head = child(root, "Head")
    if control is None or head is None:
        raise IngestError("not a JMA report: no Control or Head block", source=SOURCE)
    info_type = text(head, "InfoType")
    if info_type not in INFO_TYPES:
        raise IngestError(f"unknown InfoType {info_type!r} (expected 発表, 訂正 or 取消)",
                          source=SOURCE)
    status = text(control, "Status")
    if not status:
        raise IngestError("missing Control/Status", source=SOURCE)
    title = text(head, "Title")
    info_kind = text(head, "InfoKind")
    if not info_kind:
        raise IngestError("missing Head/InfoKind", source=SOURCE)
    return Head(
        control_title=text(control, "Title"),
        status=status,
        editorial_office=text(control, "EditorialOffice"),
        publishing_office=text(control, "PublishingOffice"),
        title=title,
        report_time=parse_time(text(head, "ReportDateTime"), what="Head/ReportDateTime"),
        target_time=optional_time(text(head, "TargetDateTime")),
        valid_time=optional_time(text(head, "ValidDateTime")),
        # Weather warnings carry no EventID: the head title (e.g. 熊本県気象警報・注意報)
        # names the series that each report supersedes.
        event_id=text(head, "EventID") or title or info_kind,
        info_type=info_type,
        serial=text(head, "Serial"),
        info_kind=info_kind,
        headline=squash(text(head, "Headline", "Text")),
        head=head,
        body=child(root, "Body"),
    )


def head_fields(h: Head) -> dict[str, Any]:
    """The :class:`~bot.domain.JmaPayload` fields every report's payload has."""
    return {
        "event_key": h.event_key,
        "jma_info_kind": h.info_kind,
        "jma_title": h.title,
        "jma_status": h.status,
        "publishing_office": h.publishing_office,
    }


def make_alert(
    h: Head,
    *,
    kind: Kind,
    payload: AlertPayload,
    body_ja: str,
    severity: Severity,
    urgency: Urgency,
    wards: tuple[str, ...],
    areas: tuple[str, ...],
    in_jurisdiction: bool,
    expires: datetime | None = None,
    all_lifted: bool = False,
) -> Alert:
    """The report's Alert. ``all_lifted``: everything it says about the city is 解除,
    so a 発表 is a lift of the series' earlier report (:mod:`bot.ingest.lifting`)."""
    msg_type = jma_msg_type(h.msg_type, all_lifted)
    if expires is None:
        expires = h.valid_time
    if msg_type is MsgType.CANCEL:
        severity, urgency = Severity.MINOR, Urgency.PAST
    if expires is not None and expires < h.report_time:
        expires = None
    try:
        return Alert(
            source=SOURCE,
            source_id=h.source_id,
            kind=kind,
            msg_type=msg_type,
            references=h.event_key if msg_type is not MsgType.ALERT else None,
            severity=severity,
            urgency=urgency,
            wards=wards,
            areas=areas,
            headline_ja=h.headline or h.title,
            body_ja=body_ja,
            payload=payload,
            issued=h.report_time,
            expires=expires,
            test=h.test,
            in_jurisdiction=in_jurisdiction,
        )
    except ValidationError as exc:
        raise IngestError(f"cannot build an alert: {exc}", source=SOURCE) from None


_NUM = re.compile(r"[+-]?\d+(?:\.\d+)?")


def number(value: str) -> float | None:
    """'120', '１２０', 'NaN' -> 120.0 / None."""
    v = value.strip().translate(_FULLWIDTH)
    if not _NUM.fullmatch(v):
        return None
    n = float(v)
    return n if math.isfinite(n) else None


# Body/Comments blocks of fixed comments (固定付加文), in JMA's order.
_COMMENT_BLOCKS = (("WarningComment", CommentKind.WARNING),
                   ("ForecastComment", CommentKind.FORECAST),
                   ("VarComment", CommentKind.VAR))


def read_comments(body: ET.Element | None) -> tuple[tuple[JmaComment, ...], str]:
    """(fixed comment blocks, free comment) of Body/Comments, as JMA wrote them.

    Each block keeps its codes (``<Code>0114 0111 0112</Code>``, possibly several
    Code elements) and its Japanese text; the free comment (FreeFormComment) is
    squashed like every other JMA text.
    """
    comments = child(body, "Comments")
    blocks = []
    for name, kind in _COMMENT_BLOCKS:
        for el in children(comments, name):
            codes = tuple(code for c in children(el, "Code") for code in (c.text or "").split())
            body_text = squash(text(el, "Text"))
            if codes or body_text:
                blocks.append(JmaComment(kind=kind, codes=codes, text_ja=body_text))
    return tuple(blocks), squash(text(comments, "FreeFormComment"))
