"""The in-memory limiters, their bounds, the urgent rounds' day, and their settings."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.digest import COORDINATORS_ONLY_AFTER, COORDINATORS_ONLY_ROUND, round_at
from bot.errors import SettingsError
from bot.rate_limits import (
    RELAY_TELL_EVERY,
    Buckets,
    FloodGuard,
    NewcomerGate,
    Rate,
    RelayLimit,
    Verdict,
    wipe_rate,
)
from bot.referral_desk import FAST_ROUNDS, RENOTIFY_EVERY, SLOW_RENOTIFY_EVERY
from bot.settings import load_settings


def _key(number: int) -> bytes:
    """A pseudonym-like key: 32 bytes that differ from the first byte."""
    return hashlib.sha256(number.to_bytes(8, "big")).digest()


A = _key(1)
B = _key(2)


def _guard(burst: int = 3, ignore_after: int = 4) -> FloodGuard:
    return FloodGuard(Rate(burst, 60), ignore_after=ignore_after, ignore_for=600)


def test_a_flooding_account_is_served_then_slowed_then_ignored() -> None:
    guard = _guard()
    verdicts = [guard.check(A, 0.0) for _ in range(3 + 4 + 2)]
    assert verdicts == [
        *[Verdict.SERVE] * 3,
        Verdict.SLOWED,  # told once
        Verdict.DROP,
        Verdict.DROP,
        Verdict.IGNORED,  # the fourth dropped update
        Verdict.DROP,
        Verdict.DROP,
    ]
    # The others are untouched.
    assert guard.check(B, 0.0) is Verdict.SERVE
    # Ignored for the whole period even though the allowance refills meanwhile.
    assert guard.check(A, 599.0) is Verdict.DROP
    assert guard.check(A, 601.0) is Verdict.SERVE


def test_slowed_means_served_at_the_pace() -> None:
    guard = _guard(burst=2, ignore_after=100)
    assert [guard.check(A, 0.0) for _ in range(3)] == [Verdict.SERVE, Verdict.SERVE, Verdict.SLOWED]
    assert guard.check(A, 1.0) is Verdict.SERVE, "60 a minute: one a second"
    assert guard.check(A, 1.0) is Verdict.DROP
    # Once the allowance is full again the episode is over: told afresh next time.
    assert [guard.check(A, 100.0) for _ in range(3)] == [
        Verdict.SERVE,
        Verdict.SERVE,
        Verdict.SLOWED,
    ]


def test_a_wipe_gets_through_while_ignored() -> None:
    guard = _guard()
    for _ in range(20):
        guard.check(A, 0.0)
    assert guard.check(A, 0.0) is Verdict.DROP
    assert guard.check(A, 0.0, wipe=True) is Verdict.SERVE
    # The wipe has an allowance too, smaller: a wipe flood is bounded as well.
    allowance = wipe_rate(guard.rate).burst
    assert allowance < 10
    assert [guard.check(A, 0.0, wipe=True) for _ in range(allowance)][-1] is Verdict.DROP


def test_memory_is_bounded_whatever_the_number_of_accounts() -> None:
    buckets = Buckets(Rate(1, 1), capacity=100)
    for number in range(10_000):
        buckets.take(_key(number), 0.0)
    assert len(buckets) == 100
    # The most recently seen are kept, and keep their state.
    assert not buckets.take(_key(9_999), 0.0)


def test_a_clock_stepping_back_refills_nothing() -> None:
    buckets = Buckets(Rate(1, 60))
    assert buckets.take(A, 100.0)
    assert not buckets.take(A, 50.0)
    assert not buckets.take(A, 100.5)
    assert buckets.take(A, 101.5)


def test_the_relay_is_paced_per_direction_with_an_occasional_note() -> None:
    relay = RelayLimit(Rate(2, 60))
    assert [relay.allow("member", A, 0.0) for _ in range(4)] == [
        (True, False),
        (True, False),
        (False, True),
        (False, False),
    ]
    assert relay.allow("staff", A, 0.0) == (True, False), "the other direction is separate"
    assert relay.allow("member", B, 0.0) == (True, False), "and so is everyone else"
    assert relay.allow("member", A, 0.5) == (False, False)
    assert relay.allow("member", A, 1.0) == (True, False)
    later = RELAY_TELL_EVERY + 0.1
    assert [relay.allow("member", A, later) for _ in range(3)][-1] == (False, True)


def test_newcomers_past_the_cap_and_the_crisis_allowance() -> None:
    gate = NewcomerGate(2)
    assert gate.admit(0.0)
    assert gate.admit(0.0, crisis=True), "the crisis path counts as a newcomer while there is room"
    assert not gate.admit(1.0)
    assert gate.crisis_open(1.0)
    assert gate.first_refusal(1.0)
    assert not gate.first_refusal(2.0), "one log line an hour"
    assert gate.admit(2.0, crisis=True)
    assert gate.admit(3.0, crisis=True)
    assert not gate.crisis_open(3.0)
    assert not gate.admit(4.0, crisis=True)
    assert gate.tell(A, 5.0)
    assert not gate.tell(A, 6.0), "told once an hour"
    assert gate.tell(B, 6.0)
    # A new hour starts afresh.
    assert gate.admit(3600.0)
    assert gate.tell(A, 3600.0)
    assert gate.first_refusal(3601.0)


def test_refused_strangers_told_are_bounded_too() -> None:
    gate = NewcomerGate(1, capacity=10)
    told = [gate.tell(_key(number), 0.0) for number in range(50)]
    assert told == [True] * 10 + [False] * 40


def test_a_day_of_rounds_is_counted_from_the_schedule() -> None:
    # Replay the schedule bot.digest keeps: round k+1 follows round k by the pause.
    elapsed = timedelta()
    at = {}
    for this_round in range(1, 80):
        elapsed += RENOTIFY_EVERY if this_round <= FAST_ROUNDS else SLOW_RENOTIFY_EVERY
        at[this_round] = elapsed
    assert at[COORDINATORS_ONLY_ROUND] >= COORDINATORS_ONLY_AFTER
    assert at[COORDINATORS_ONLY_ROUND - 1] < COORDINATORS_ONLY_AFTER
    for this_round, when in at.items():
        assert round_at(when) == this_round


@pytest.mark.parametrize("name", ["NEW_MEMBERS_PER_HOUR", "FLOOD_BURST", "FLOOD_PER_MINUTE"])
@pytest.mark.parametrize("text", ["0", "-1", "abc", "1.5", "２", "1000001"])
def test_limit_settings_refuse_bad_values_with_one_line(
    name: str, text: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError, match=name) as raised:
        load_settings({name: text}, env_file=tmp_path / "none")
    assert "\n" not in str(raised.value)


def test_limit_settings_have_defaults_and_can_be_set(tmp_path: Path) -> None:
    defaults = load_settings({}, env_file=tmp_path / "none")
    assert (defaults.new_members_per_hour, defaults.flood_burst, defaults.flood_per_minute) == (
        300,
        30,
        60,
    )
    chosen = load_settings(
        {"NEW_MEMBERS_PER_HOUR": "50", "FLOOD_BURST": "10", "FLOOD_PER_MINUTE": "20"},
        env_file=tmp_path / "none",
    )
    assert (chosen.new_members_per_hour, chosen.flood_burst, chosen.flood_per_minute) == (
        50,
        10,
        20,
    )
