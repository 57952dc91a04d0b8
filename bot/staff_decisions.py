"""What a volunteer or coordinator may do: every staff rule, once, with no I/O.

Like :mod:`bot.conversation` for members: the handler loads the facts a press
needs (:class:`Facts`), :func:`decide` says whether the actor may do what the
button asks and on whom, and the handler carries the change out and sends the
messages. Nothing here reads Telegram or the database, so each rule has a unit
test of its own (tests/unit/test_staff_decisions.py). The database repeats the
holder and cap checks in the same statement that changes a request, since
another press may come between loading and changing; this module decides what
a person is told, the database what actually happens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, auto

from bot.callbacks import (
    AskClose,
    AskHandover,
    Assign,
    Claim,
    Close,
    DecideLanguage,
    LanguagesDone,
    ManageStaff,
    PanelPress,
    Release,
    StaffAction,
    Talk,
    ToggleLanguage,
)
from bot.referral_terms import HELD, Status, status_of
from storage.referrals import Referral
from storage.staff import Role, StaffMember


class Reason(Enum):
    NOT_ALLOWED = auto()
    """Not this account's to do; said alike whatever the cause, so a forger learns nothing."""
    CLAIM_LOST = auto()
    """Someone else was faster, or the request is gone."""
    HELD_LIMIT = auto()
    TARGET_FULL = auto()
    COORDINATORS_BY_ADMIN = auto()
    ALREADY_DECIDED = auto()


@dataclass(frozen=True)
class Refused:
    reason: Reason
    limit: int = 0
    """For HELD_LIMIT: the cap reached."""
    label: str = ""
    """For TARGET_FULL: whose cap."""


@dataclass(frozen=True)
class OnReferral:
    """Allowed: claim, talk, release, ask for hand-over, or close this request."""

    referral: Referral


@dataclass(frozen=True)
class PassOn:
    """Allowed: a coordinator gives a request waiting for hand-over to ``target``."""

    referral: Referral
    target: StaffMember


@dataclass(frozen=True)
class OnAccount:
    """Allowed: a coordinator changes ``target``'s access or languages."""

    target: StaffMember


@dataclass(frozen=True)
class OwnLanguages:
    """Allowed: the actor changes their own languages; ``direct`` unless a coordinator
    must approve an added one first."""

    direct: bool


Decision = Refused | OnReferral | PassOn | OnAccount | OwnLanguages


@dataclass(frozen=True)
class Facts:
    """What the handler loaded for one press; only what the action names is needed."""

    max_held: int
    referral: Referral | None = None
    target: StaffMember | None = None
    """The account a coordinator's button names (by label), if it exists."""
    held: int = 0
    """Requests held now by whoever would take this one: the actor for a claim,
    the target for an assignment."""


NOT_ALLOWED = Refused(Reason.NOT_ALLOWED)


def holds(staff_key: bytes, referral: Referral | None) -> bool:
    """Whether this account holds the request now, and so may write to its member."""
    return referral is not None and referral.volunteer == staff_key and status_of(referral) in HELD


def may_serve(member: StaffMember, language: str) -> bool:
    """Whether an account may take a request in ``language``: coordinators take any."""
    return member.is_coordinator or language in member.languages


def handover_candidates(
    asker: StaffMember, staff: Iterable[StaffMember], language: str
) -> list[StaffMember]:
    """Whom a coordinator may pass a request to: active, able to serve it, not the asker."""
    return [m for m in staff if m.active and m.key != asker.key and may_serve(m, language)]


def coordinators(staff: Iterable[StaffMember], *, but: bytes | None = None) -> list[StaffMember]:
    """The active coordinators, who hear of hand-overs, language requests and alerts."""
    return [m for m in staff if m.active and m.is_coordinator and m.key != but]


def claim_alert_due(claims_today: int, threshold: int) -> bool:
    """More claims in a day than a person handles: the coordinators hear of it.

    Alerted when the day's count passes the threshold and again at every
    further multiple of it, so a runaway account keeps being noticed.
    """
    return claims_today > threshold and (claims_today - 1) % threshold == 0


def invite_role(actor: StaffMember, args: Iterable[str]) -> Role | Refused | None:
    """``/invite <role>``: the role to invite, a refusal, or None when the usage is wrong."""
    if not actor.is_coordinator:
        return NOT_ALLOWED
    words = list(args)
    if len(words) != 1 or words[0] not in ("volunteer", "coordinator"):
        return None
    return "coordinator" if words[0] == "coordinator" else "volunteer"


def may_see_roster(actor: StaffMember) -> bool:
    return actor.is_coordinator


def decide(actor: StaffMember, action: StaffAction, facts: Facts) -> Decision:
    """Whether ``actor`` may do what the button asks, given what is stored now."""
    match action:
        case Claim():
            return _claim(actor, facts)
        case Talk() | Release() | AskHandover() | AskClose() | Close():
            referral = facts.referral
            return OnReferral(referral) if referral and holds(actor.key, referral) else NOT_ALLOWED
        case Assign():
            return _assign(actor, facts)
        case ManageStaff():
            return _manage(actor, facts.target)
        case DecideLanguage():
            target = facts.target
            if not actor.is_coordinator or target is None or target.key == actor.key:
                return NOT_ALLOWED
            return OnAccount(target)
        case ToggleLanguage():
            # One infiltrated volunteer must not reach every language unseen:
            # a language a volunteer adds waits for a coordinator's approval.
            # Coordinators see every request anyway.
            return OwnLanguages(direct=actor.is_coordinator)
        case LanguagesDone():
            return OwnLanguages(direct=actor.is_coordinator)
        case PanelPress():
            # The desk's and the language switch's presses are decided by their own modules.
            return NOT_ALLOWED


def _claim(actor: StaffMember, facts: Facts) -> Decision:
    referral = facts.referral
    if referral is None or status_of(referral) is not Status.OPEN:
        return Refused(Reason.CLAIM_LOST)
    if not may_serve(actor, referral.language):
        return NOT_ALLOWED
    if referral.member_key == actor.key:
        return NOT_ALLOWED  # nobody handles their own request
    if facts.held >= facts.max_held:
        return Refused(Reason.HELD_LIMIT, limit=facts.max_held)
    return OnReferral(referral)


def _assign(actor: StaffMember, facts: Facts) -> Decision:
    referral, target = facts.referral, facts.target
    if not actor.is_coordinator or target is None or not target.active or referral is None:
        return NOT_ALLOWED
    if status_of(referral) is not Status.HANDOVER or not may_serve(target, referral.language):
        return NOT_ALLOWED
    if facts.held >= facts.max_held:
        return Refused(Reason.TARGET_FULL, label=target.label)
    return PassOn(referral, target)


def _manage(actor: StaffMember, target: StaffMember | None) -> Decision:
    if not actor.is_coordinator or target is None or target.key == actor.key:
        return NOT_ALLOWED
    if target.is_coordinator:
        # One coordinator must not be able to lock the others out.
        return Refused(Reason.COORDINATORS_BY_ADMIN)
    return OnAccount(target)
