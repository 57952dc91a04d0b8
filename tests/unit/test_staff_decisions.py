"""The staff side's rules, one by one, without Telegram or a database."""

from __future__ import annotations

from typing import get_args

from bot.referral_choices import URGENCIES
from bot.referral_terms import HELD, Status, Urgency
from storage import referrals


def test_the_bot_and_storage_name_the_same_statuses_and_urgencies() -> None:
    """storage/ cannot import the enums, so its literals must stay the same words."""
    assert set(get_args(referrals.Status)) == {status.value for status in Status}
    assert referrals.CRISIS == Urgency.DETAINED
    assert set(referrals.URGENT) <= set(URGENCIES)
    assert {Status.CLAIMED, Status.HANDOVER} == HELD
