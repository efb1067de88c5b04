"""An alert written by an operator, from the CLI or the web console: one set of rules.

Both front ends collect the same fields and call here; neither builds an
:class:`~bot.domain.Alert` itself or decides what an option means::

    request = ManualRequest(kind="evacuation", text_ja="…", wards=("中央区",), level=4)
    alert = build_alert(svc, request)                  # ValidationError: what to fix
    override = emergency_override(svc, alert, emergency, reason)
    prepared = svc.lifecycle.prepare(alert)
    shown = review(svc, prepared)        # bot.lifecycle.plan: the screen before sending

Messages name the CLI's options (``--level``): the console's form fields carry the
same names, so one message serves both.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.domain import Alert, AlertStatus, Kind, MsgType, Severity, Urgency
from bot.domain import payloads as pl
from bot.errors import OperatorError, ValidationError
from bot.operators import OperatorSettings, announce, grave
from bot.places import resolve_shelter, resolve_wards

if TYPE_CHECKING:
    from bot.lifecycle.core import Prepared, Submitted
    from bot.service import Service

EVACUATION_SEVERITY = {3: Severity.SEVERE, 4: Severity.SEVERE, 5: Severity.EXTREME}

# options that apply only to some kinds
OPTION_KINDS = {"--level": (Kind.EVACUATION,), "--shelter": (Kind.SHELTER,),
                "--action": (Kind.SHELTER,), "--utility": (Kind.LIFELINE,)}


@dataclass(frozen=True, kw_only=True)
class ManualRequest:
    """What an operator asked for, as typed (wards and shelter by code or name)."""

    kind: str
    text_ja: str
    wards: Sequence[str] = ()
    headline_ja: str = ""
    texts: Mapping[str, str] = field(default_factory=dict)
    level: int | None = None
    shelter: str | None = None
    action: str | None = None
    utility: str | None = None
    severity: str | None = None
    expires: dt.datetime | None = None
    send_at: dt.datetime | None = None
    test: bool = False


def parse_kind(kind: str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise ValidationError(f"unknown kind {kind!r}; kinds: "
                              f"{', '.join(x.value for x in Kind)}") from None


def check_options(kind: Kind, *, text_ja: str, **given: object) -> None:
    """Refuse an empty text and options that do not apply to the kind."""
    if not text_ja.strip():
        raise ValidationError("--text-ja is empty: write the message in Japanese")
    for name, value in given.items():
        option = f"--{name}"
        if value is not None and kind not in OPTION_KINDS[option]:
            kinds = ", ".join(k.value for k in OPTION_KINDS[option])
            raise ValidationError(f"{option} applies only to --kind {kinds}, not {kind.value}")


def build_alert(svc: Service, req: ManualRequest) -> Alert:
    """The alert the request describes; :class:`ValidationError` (or an unknown
    ward's or shelter's LookupError) says what to fix."""
    k = parse_kind(req.kind)
    check_options(k, text_ja=req.text_ja, level=req.level, shelter=req.shelter,
                  action=req.action, utility=req.utility)
    wards = resolve_wards(svc.config, req.wards)
    payload: pl.AlertPayload = pl.CityNotice() if k is Kind.CITY_NOTICE else pl.FreeText()
    sev = Severity.parse(req.severity) if req.severity else Severity.MODERATE
    if k is Kind.EVACUATION:
        if req.level not in (3, 4, 5):
            raise ValidationError("--kind evacuation needs --level 3, 4 or 5")
        payload = pl.Evacuation(level=pl.EvacuationLevel(req.level))
        sev = Severity.parse(req.severity) if req.severity else EVACUATION_SEVERITY[req.level]
    if k is Kind.SHELTER:
        shelter = resolve_shelter(req.shelter).id if req.shelter else None
        if not shelter or req.action not in ("opened", "closed"):
            raise ValidationError("--kind shelter needs --shelter ID and --action "
                                  "opened|closed")
        payload = pl.Shelter(shelter_ids=(shelter,), action=pl.ShelterAction(req.action))
    if k is Kind.LIFELINE:
        if req.utility not in ("water", "power", "gas", "supplies"):
            raise ValidationError("--kind lifeline needs --utility water|power|gas|supplies")
        payload = pl.Lifeline(utility=pl.Utility(req.utility))
    return Alert(
        source="cli", source_id=str(uuid.uuid4()), kind=k, severity=sev,
        urgency=Urgency.IMMEDIATE if sev >= Severity.SEVERE else Urgency.EXPECTED,
        wards=wards, headline_ja=req.headline_ja, body_ja=req.text_ja,
        texts=dict(req.texts), payload=payload, issued=dt.datetime.now(dt.UTC),
        expires=req.expires, send_at=req.send_at, test=req.test or k is Kind.DRILL)


def emergency_override(svc: Service, alert: Alert, emergency: bool, reason: str | None
                       ) -> str | None:
    """The reason for an emergency override, or None; refuses what the config or the
    kind of alert does not allow."""
    if not emergency:
        if reason:
            raise ValidationError("--reason goes with --emergency")
        return None
    if not OperatorSettings.from_config(svc.config).emergency_override:
        raise OperatorError("the emergency override is off: set emergency_override = true "
                            "under [operators] in the config, or have a second operator "
                            "approve")
    if not grave(alert):
        raise OperatorError("--emergency is only for evacuation level 5, tsunami warnings "
                            "and emergency warnings (severity extreme)")
    if not (reason or "").strip():
        raise ValidationError("--emergency needs --reason TEXT (kept in the audit log)")
    return str(reason).strip()


def needs_approval(svc: Service, alert: Alert, override: str | None) -> bool:
    """Whether a manual alert waits for a second operator (the two-person rule)."""
    return svc.two_person_rule and not alert.test and override is None


def submit(svc: Service, prepared: Prepared, *, operator: str,
           override: str | None = None) -> Submitted:
    """Submit an operator's alert or follow-up under the two-person rule and tell the
    operators' chat: an emergency override at once, an alert that waits for a second
    operator with Approve and Reject buttons."""
    alert = prepared.alert
    done = svc.lifecycle.submit(prepared, operator=operator, action="auto",
                                require_approval=needs_approval(svc, alert, override),
                                override=override)
    original = prepared.original.id if prepared.original is not None else None
    if override is not None:
        announce(svc, done.id, f"EMERGENCY OVERRIDE by {operator}: {override}",
                 buttons=False, prepared=prepared)
    elif done.status is AlertStatus.PENDING_APPROVAL:
        what = ("Waits for a second operator" if alert.msg_type is MsgType.ALERT else
                f"{alert.msg_type.value.capitalize()} of alert {original} waits for a "
                "second operator")
        announce(svc, done.id, f"{what} (issued by {operator})", prepared=prepared)
    return done
