"""The staff side's rules, one by one, without Telegram or a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import get_args

import pytest

from bot.callbacks import (
    AskClose,
    AskHandover,
    Assign,
    Claim,
    Close,
    DecideLanguage,
    LanguagesDone,
    ManageStaff,
    Release,
    StaffChange,
    Talk,
    ToggleLanguage,
)
from bot.referral_choices import URGENCIES
from bot.referral_terms import HELD, Outcome, Status, Urgency
from bot.staff_decisions import (
    NOT_ALLOWED,
    Facts,
    OnAccount,
    OnReferral,
    OwnLanguages,
    PassOn,
    Reason,
    Refused,
    claim_alert_due,
    coordinators,
    decide,
    handover_candidates,
    holds,
    invite_role,
    may_see_roster,
    may_serve,
)
from storage import referrals
from storage.referrals import Referral
from storage.staff import StaffMember


def test_the_bot_and_storage_name_the_same_statuses_and_urgencies() -> None:
    """storage/ cannot import the enums, so its literals must stay the same words."""
    assert set(get_args(referrals.Status)) == {status.value for status in Status}
    assert referrals.CRISIS == Urgency.DETAINED
    assert set(referrals.URGENT) <= set(URGENCIES)
    assert {Status.CLAIMED, Status.HANDOVER} == HELD


# Fixtures -----------------------------------------------------------------

CAP = 3
VOLUNTEER = StaffMember(b"v" * 32, "volunteer", True, "vera0001", "en", frozenset({"en"}), None)
OTHER = replace(VOLUNTEER, key=b"o" * 32, label="omar0001")
UYGHUR = replace(VOLUNTEER, key=b"u" * 32, label="ugul0001", languages=frozenset({"ug"}))
COORDINATOR = StaffMember(b"c" * 32, "coordinator", True, "cora0001", "en", frozenset(), None)
SECOND_COORDINATOR = replace(COORDINATOR, key=b"d" * 32, label="dora0001")
MEMBER_KEY = b"m" * 32


def referral(
    status: str = "open", volunteer: bytes | None = None, language: str = "en"
) -> Referral:
    return Referral(
        id="abcdefgh",
        member_key=MEMBER_KEY,
        topic="travel",
        urgency="general",
        country=None,
        language=language,
        status=status,  # type: ignore[arg-type]
        volunteer=volunteer,
        outcome=None,
        created_day=date(2025, 1, 1),
        notify_count=0,
    )


def facts(**given: object) -> Facts:
    return Facts(max_held=CAP, **given)  # type: ignore[arg-type]


# Who holds a request ------------------------------------------------------


@pytest.mark.parametrize("status", ["claimed", "handover"])
def test_the_volunteer_a_request_names_holds_it_while_claimed_or_in_hand_over(
    status: str,
) -> None:
    assert holds(VOLUNTEER.key, referral(status, VOLUNTEER.key))


@pytest.mark.parametrize(
    ("status", "volunteer"),
    [("claimed", OTHER.key), ("open", None), ("closed", VOLUNTEER.key), ("open", VOLUNTEER.key)],
)
def test_nobody_else_holds_it_nor_anyone_once_it_is_open_or_closed(
    status: str, volunteer: bytes | None
) -> None:
    assert not holds(VOLUNTEER.key, referral(status, volunteer))
    assert not holds(VOLUNTEER.key, None)


@pytest.mark.parametrize("action", [Talk, Release, AskHandover, AskClose])
def test_only_the_holder_acts_on_a_held_request(action: type[Talk]) -> None:
    held = referral("claimed", VOLUNTEER.key)
    assert decide(VOLUNTEER, action(held.id), facts(referral=held)) == OnReferral(held)
    assert decide(OTHER, action(held.id), facts(referral=held)) == NOT_ALLOWED
    # Not even a coordinator: they pass requests on, they do not write in someone's name.
    assert decide(COORDINATOR, action(held.id), facts(referral=held)) == NOT_ALLOWED
    assert decide(VOLUNTEER, action(held.id), facts()) == NOT_ALLOWED


def test_closing_needs_the_hold_too() -> None:
    held = referral("handover", VOLUNTEER.key)
    close = Close(held.id, Outcome.LAWYER)
    assert decide(VOLUNTEER, close, facts(referral=held)) == OnReferral(held)
    assert decide(OTHER, close, facts(referral=held)) == NOT_ALLOWED


# Claiming -------------------------------------------------------------------


def test_a_volunteer_claims_an_open_request_in_their_language() -> None:
    open_one = referral()
    assert decide(VOLUNTEER, Claim(open_one.id), facts(referral=open_one)) == OnReferral(open_one)


@pytest.mark.parametrize("status", ["claimed", "handover", "closed"])
def test_a_request_taken_or_gone_is_lost_not_forbidden(status: str) -> None:
    taken = referral(status, OTHER.key)
    lost = Refused(Reason.CLAIM_LOST)
    assert decide(VOLUNTEER, Claim(taken.id), facts(referral=taken)) == lost
    assert decide(VOLUNTEER, Claim(taken.id), facts()) == lost


def test_a_volunteer_cannot_claim_outside_their_languages() -> None:
    chinese = referral(language="zh_Hans")
    assert decide(VOLUNTEER, Claim(chinese.id), facts(referral=chinese)) == NOT_ALLOWED
    assert not may_serve(VOLUNTEER, "zh_Hans")


def test_a_coordinator_may_take_a_request_in_any_language() -> None:
    chinese = referral(language="zh_Hans")
    assert decide(COORDINATOR, Claim(chinese.id), facts(referral=chinese)) == OnReferral(chinese)
    assert may_serve(COORDINATOR, "ug")


def test_nobody_claims_their_own_request() -> None:
    own = replace(referral(), member_key=VOLUNTEER.key)
    assert decide(VOLUNTEER, Claim(own.id), facts(referral=own)) == NOT_ALLOWED


def test_a_volunteer_holding_the_maximum_claims_no_more() -> None:
    open_one = referral()
    full = facts(referral=open_one, held=CAP)
    assert decide(VOLUNTEER, Claim(open_one.id), full) == Refused(Reason.HELD_LIMIT, limit=CAP)
    below = facts(referral=open_one, held=CAP - 1)
    assert decide(VOLUNTEER, Claim(open_one.id), below) == OnReferral(open_one)


# Hand-over ------------------------------------------------------------------


def test_hand_over_candidates_are_active_others_who_can_serve_the_language() -> None:
    paused = replace(OTHER, key=b"p" * 32, active=False)
    staff = [VOLUNTEER, OTHER, UYGHUR, COORDINATOR, paused]
    assert handover_candidates(VOLUNTEER, staff, "en") == [OTHER, COORDINATOR]
    assert handover_candidates(VOLUNTEER, staff, "ug") == [UYGHUR, COORDINATOR]


def test_a_coordinator_passes_a_request_waiting_for_hand_over() -> None:
    waiting = referral("handover", VOLUNTEER.key)
    given = facts(referral=waiting, target=OTHER)
    assert decide(COORDINATOR, Assign(waiting.id, OTHER.label), given) == PassOn(waiting, OTHER)


def test_only_a_coordinator_passes_a_request_on() -> None:
    waiting = referral("handover", VOLUNTEER.key)
    given = facts(referral=waiting, target=OTHER)
    assert decide(VOLUNTEER, Assign(waiting.id, OTHER.label), given) == NOT_ALLOWED
    assert decide(OTHER, Assign(waiting.id, OTHER.label), given) == NOT_ALLOWED


@pytest.mark.parametrize(
    ("status", "target"),
    [
        ("claimed", OTHER),  # its holder did not ask
        ("open", OTHER),
        ("handover", UYGHUR),  # cannot serve the language
        ("handover", replace(OTHER, active=False)),
        ("handover", None),
    ],
)
def test_a_request_is_passed_only_when_waiting_and_to_someone_who_can_take_it(
    status: str, target: StaffMember | None
) -> None:
    waiting = referral(status, VOLUNTEER.key)
    given = facts(referral=waiting, target=target)
    assert decide(COORDINATOR, Assign(waiting.id, "omar0001"), given) == NOT_ALLOWED


def test_a_request_is_not_passed_to_someone_holding_the_maximum() -> None:
    waiting = referral("handover", VOLUNTEER.key)
    given = facts(referral=waiting, target=OTHER, held=CAP)
    assert decide(COORDINATOR, Assign(waiting.id, OTHER.label), given) == Refused(
        Reason.TARGET_FULL, label=OTHER.label
    )


# Managing accounts ------------------------------------------------------------


@pytest.mark.parametrize("change", list(StaffChange))
def test_a_coordinator_manages_a_volunteer(change: StaffChange) -> None:
    action = ManageStaff(VOLUNTEER.label, change)
    assert decide(COORDINATOR, action, facts(target=VOLUNTEER)) == OnAccount(VOLUNTEER)


@pytest.mark.parametrize("change", list(StaffChange))
def test_coordinators_cannot_manage_coordinators(change: StaffChange) -> None:
    action = ManageStaff(SECOND_COORDINATOR.label, change)
    refused = decide(COORDINATOR, action, facts(target=SECOND_COORDINATOR))
    assert refused == Refused(Reason.COORDINATORS_BY_ADMIN)


@pytest.mark.parametrize("change", list(StaffChange))
def test_nobody_manages_themselves_and_volunteers_manage_nobody(change: StaffChange) -> None:
    mine = ManageStaff(COORDINATOR.label, change)
    assert decide(COORDINATOR, mine, facts(target=COORDINATOR)) == NOT_ALLOWED
    theirs = ManageStaff(OTHER.label, change)
    assert decide(VOLUNTEER, theirs, facts(target=OTHER)) == NOT_ALLOWED
    assert decide(COORDINATOR, theirs, facts()) == NOT_ALLOWED


# Languages --------------------------------------------------------------------


def test_a_volunteer_s_added_language_waits_for_approval_a_coordinator_s_does_not() -> None:
    assert decide(VOLUNTEER, ToggleLanguage("ug"), facts()) == OwnLanguages(direct=False)
    assert decide(COORDINATOR, ToggleLanguage("ug"), facts()) == OwnLanguages(direct=True)
    assert decide(VOLUNTEER, LanguagesDone(), facts()) == OwnLanguages(direct=False)


@pytest.mark.parametrize("approve", [True, False])
def test_a_coordinator_decides_a_volunteer_s_language(approve: bool) -> None:
    action = DecideLanguage(VOLUNTEER.label, "ug", approve=approve)
    assert decide(COORDINATOR, action, facts(target=VOLUNTEER)) == OnAccount(VOLUNTEER)


def test_languages_are_decided_by_a_coordinator_about_someone_else() -> None:
    action = DecideLanguage(VOLUNTEER.label, "ug", approve=True)
    assert decide(VOLUNTEER, action, facts(target=VOLUNTEER)) == NOT_ALLOWED
    assert decide(OTHER, action, facts(target=VOLUNTEER)) == NOT_ALLOWED
    own = DecideLanguage(COORDINATOR.label, "ug", approve=True)
    assert decide(COORDINATOR, own, facts(target=COORDINATOR)) == NOT_ALLOWED
    assert decide(COORDINATOR, action, facts()) == NOT_ALLOWED


# Invites, the roster, alerts --------------------------------------------------


def test_only_a_coordinator_invites_and_only_to_a_known_role() -> None:
    assert invite_role(COORDINATOR, ["volunteer"]) == "volunteer"
    assert invite_role(COORDINATOR, ["coordinator"]) == "coordinator"
    assert invite_role(COORDINATOR, []) is None
    assert invite_role(COORDINATOR, ["admin"]) is None
    assert invite_role(COORDINATOR, ["volunteer", "x"]) is None
    assert invite_role(VOLUNTEER, ["volunteer"]) == NOT_ALLOWED


def test_only_coordinators_see_the_roster() -> None:
    assert may_see_roster(COORDINATOR)
    assert not may_see_roster(VOLUNTEER)


@pytest.mark.parametrize(
    ("claims", "due"), [(5, False), (6, True), (7, False), (11, True), (16, True), (12, False)]
)
def test_claim_alerts_come_past_the_threshold_and_at_each_further_multiple(
    claims: int, due: bool
) -> None:
    assert claim_alert_due(claims, threshold=5) is due


def test_coordinators_hear_alerts_except_the_one_who_caused_them() -> None:
    paused = replace(SECOND_COORDINATOR, key=b"q" * 32, active=False)
    staff = [VOLUNTEER, COORDINATOR, SECOND_COORDINATOR, paused]
    assert coordinators(staff) == [COORDINATOR, SECOND_COORDINATOR]
    assert coordinators(staff, but=COORDINATOR.key) == [SECOND_COORDINATOR]
