"""SQL conditions and assignments that more than one statement needs, written once.

Each is a literal built from the codes in :mod:`storage.referrals`; nothing a
user sends is ever interpolated. Placeholders (``?``) are listed in each
docstring in the order their arguments go.
"""

from __future__ import annotations

from storage.referrals import HELD, URGENT


def _codes(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


URGENT_SQL = f"urgency IN ({_codes(URGENT)})"
"""The referral's urgency re-notifies until claimed (:data:`storage.referrals.URGENT`)."""
HELD_SQL = f"status IN ({_codes(HELD)})"
"""Someone holds the referral (claimed, or asked to hand it over)."""
HELD_BY_SQL = f"volunteer = ? AND {HELD_SQL}"
"""Who holds this request: the account ``?`` does, now."""
LIVE_SQL = "status != 'closed'"
"""Not closed: open, or held. A member has at most one such referral."""
ACTIVE_STAFF_SQL = "EXISTS (SELECT 1 FROM staff WHERE staff_key = ? AND status = 'active')"
"""A referral is only given to an account ``?`` that is still active as the change lands."""
UNDER_CAP_SQL = f"(SELECT COUNT(*) FROM referrals WHERE {HELD_BY_SQL}) < ?"  # noqa: S608 -- literals
"""The account ``?`` holds fewer than ``?`` referrals as the change lands."""
RELEASE_SET_SQL = (
    "status = 'open', volunteer = NULL, notify_count = 0, queued_day = ?, "
    f"notify_at = CASE WHEN ? OR {URGENT_SQL} THEN ? END"
)
"""Back to the queue from today ``?``: with announce-all ``?`` (or if urgent) the next
announcement is due at ``?``, else there is none."""
CLEAR_TARGET_SQL = "UPDATE staff SET current_referral = NULL WHERE staff_key = ?"
"""The account ``?`` writes to nobody until it chooses again."""
SET_LANGUAGES_SQL = "UPDATE staff SET languages = ? WHERE staff_key = ?"
"""The account's ``?`` languages (space-separated, sorted) become ``?``."""
