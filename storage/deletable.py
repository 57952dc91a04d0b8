"""How long Telegram lets a bot delete a message, in the hour granularity stored.

Message ids are kept only while they can still be deleted; keeping them longer
would only record activity.
"""

from __future__ import annotations

import math
from datetime import datetime

# Telegram lets a bot delete its messages in a private chat for 48 hours; one
# hour less leaves room for clock skew and the hour-granular timestamps.
DELETABLE_HOURS = 47


def _hours(now: datetime) -> float:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.timestamp() / 3600


def sent_hour(now: datetime) -> int:
    return math.floor(_hours(now))


def oldest_deletable_hour(now: datetime) -> int:
    # A message in hour h was sent at most now - h*3600 seconds ago; keeping
    # that bound within 47 hours keeps every returned id truly deletable.
    return math.ceil(_hours(now)) - DELETABLE_HOURS
