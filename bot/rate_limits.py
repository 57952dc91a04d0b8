"""How fast one account is served, and how many strangers a day's hour may bring.

Everything here lives in memory only, keyed by the account's pseudonymous
key (never a Telegram id), and is bounded in size: a flood of fresh accounts
pushes out the least recently seen entries instead of growing the process.
Forgetting an entry only gives that account a fresh allowance, so the bound
costs precision under attack, never memory. Nothing here does I/O; the
Telegram side is :mod:`bot.flood` and :mod:`bot.newcomers`.

With several workers each keeps its own counts, so the effective limits are
per worker.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum

MAX_ACCOUNTS = 50_000
"""Accounts remembered at once: about 12 MB at worst."""
KEY_BYTES = 16
"""Half a pseudonym is plenty to tell accounts apart and halves the memory."""


@dataclass(frozen=True)
class Rate:
    burst: int
    """How many at once before the pace applies."""
    per_minute: float
    """The pace the allowance refills at."""


class _Bucket:
    __slots__ = ("ignored_until", "stamp", "strikes", "tokens", "told")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp
        self.strikes = 0
        """Updates dropped since the allowance was last full."""
        self.told = False
        """Whether the account was told it is being slowed, this time."""
        self.ignored_until = 0.0


class Buckets:
    """Token buckets by key, the least recently seen forgotten first past ``capacity``."""

    def __init__(self, rate: Rate, *, capacity: int = MAX_ACCOUNTS) -> None:
        if rate.burst < 1 or rate.per_minute <= 0 or capacity < 1:
            raise ValueError("a rate needs a burst of at least 1 and a positive pace")
        self.rate = rate
        self._capacity = capacity
        self._entries: OrderedDict[bytes, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def bucket(self, key: bytes, now: float) -> _Bucket:
        short = bytes(key[:KEY_BYTES])
        entry = self._entries.get(short)
        if entry is None:
            entry = _Bucket(float(self.rate.burst), now)
            self._entries[short] = entry
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
            return entry
        self._entries.move_to_end(short)
        # A clock that steps back (a corrected wall clock) refills nothing, and
        # the time it stepped back over is not counted twice.
        elapsed = max(0.0, now - entry.stamp)
        entry.tokens = min(
            float(self.rate.burst), entry.tokens + elapsed * self.rate.per_minute / 60
        )
        entry.stamp = max(entry.stamp, now)
        if entry.tokens >= self.rate.burst:
            entry.strikes = 0
            entry.told = False
        return entry

    def take(self, key: bytes, now: float) -> bool:
        entry = self.bucket(key, now)
        if entry.tokens < 1:
            return False
        entry.tokens -= 1
        return True


class Verdict(Enum):
    SERVE = "serve"
    SLOWED = "slowed"
    """Dropped; the account has just started being slowed and should be told once."""
    IGNORED = "ignored"
    """Dropped; the account is ignored from now on for a while and should be told once."""
    DROP = "drop"
    """Dropped silently."""


def wipe_rate(rate: Rate) -> Rate:
    """A fifth of the burst and a tenth of the pace, at least 6: wipes skip the shared
    slots (bot.updates) and their farewell to volunteers is urgent among bulk sends
    (bot.sending.wiping), so their lane must stay short; a wipe is two updates."""
    return Rate(max(6, rate.burst // 5), max(6.0, rate.per_minute / 10))


class FloodGuard:
    """Per-account limit on updates: served, then slowed, then ignored for a while.

    Up to ``rate.burst`` updates are served at once, then ``rate.per_minute``
    (slowed: the rest are dropped). An account that goes on until ``ignore_after``
    updates were dropped is ignored for ``ignore_for`` seconds. Other accounts
    are untouched: each has its own allowance.

    A wipe (/wipe, then its confirmation) draws on a second, smaller allowance,
    untouched by the flood and by being ignored: a member in danger must be
    able to wipe whatever else they sent.
    """

    def __init__(
        self,
        rate: Rate,
        *,
        ignore_after: int,
        ignore_for: float,
        wipe: Rate | None = None,
        capacity: int = MAX_ACCOUNTS,
    ) -> None:
        self.rate = rate
        self.ignore_after = ignore_after
        self.ignore_for = ignore_for
        self._updates = Buckets(rate, capacity=capacity)
        self._wipes = Buckets(wipe or wipe_rate(rate), capacity=capacity)

    def check(self, key: bytes, now: float, *, wipe: bool = False) -> Verdict:
        if wipe:
            return Verdict.SERVE if self._wipes.take(key, now) else Verdict.DROP
        entry = self._updates.bucket(key, now)
        if now < entry.ignored_until:
            return Verdict.DROP
        if entry.tokens >= 1:
            entry.tokens -= 1
            return Verdict.SERVE
        entry.strikes += 1
        if entry.strikes >= self.ignore_after:
            entry.ignored_until = now + self.ignore_for
            entry.strikes = 0
            entry.told = True
            return Verdict.IGNORED
        if not entry.told:
            entry.told = True
            return Verdict.SLOWED
        return Verdict.DROP


RELAY_RATE = Rate(burst=20, per_minute=30)
"""Relayed messages one account may send at once, then a minute: an album is
ten, a story typed in pieces a dozen; a script sends hundreds."""
RELAY_TELL_EVERY = 30.0
"""Seconds between two "not passed on" notes to the same sender."""


class RelayLimit:
    """Relayed messages per sender and direction: member to volunteer, volunteer to member."""

    def __init__(self, rate: Rate = RELAY_RATE, *, capacity: int = MAX_ACCOUNTS) -> None:
        # Two directions, two allowances: one person who is both a member and a
        # volunteer does not spend one on the other.
        self._buckets = {
            direction: Buckets(rate, capacity=capacity) for direction in ("member", "staff")
        }

    def allow(self, direction: str, key: bytes, now: float) -> tuple[bool, bool]:
        """Whether to relay, and whether to tell the sender it was not.

        ``direction`` is "member" (to a volunteer) or "staff" (to a member).
        """
        entry = self._buckets[direction].bucket(key, now)
        if entry.tokens >= 1:
            entry.tokens -= 1
            return True, False
        tell = now >= entry.ignored_until
        if tell:
            # A relay is never ignored, so ignored_until serves as "quiet until":
            # one note per RELAY_TELL_EVERY, not one per refused message.
            entry.ignored_until = now + RELAY_TELL_EVERY
        return False, tell


class NewcomerGate:
    """At most ``per_hour`` new members an hour, and as many again on the crisis path.

    A member row is created by a stranger's first update; under attack a
    script can create thousands. Past the cap a stranger is told kindly to
    come back later, and offered one button, "Detained or stopped now", that
    draws on its own allowance of the same size: the crisis path is cut only
    after an attacker has used up both. The hour is the clock's hour.
    """

    def __init__(self, per_hour: int, *, capacity: int = MAX_ACCOUNTS) -> None:
        if per_hour < 1:
            raise ValueError("per_hour must be at least 1")
        self.per_hour = per_hour
        self._capacity = capacity
        self._hour = -1
        self._admitted = 0
        self._crisis = 0
        self._told: set[bytes] = set()
        self._refused = False

    def _roll(self, now: float) -> None:
        hour = int(now // 3600)
        if hour != self._hour:
            self._hour = hour
            self._admitted = self._crisis = 0
            self._told = set()
            self._refused = False

    def first_refusal(self, now: float) -> bool:
        """True once an hour, at the first stranger turned away: one log line, not thousands."""
        self._roll(now)
        first, self._refused = not self._refused, True
        return first

    def admit(self, now: float, *, crisis: bool = False) -> bool:
        self._roll(now)
        if self._admitted < self.per_hour:
            self._admitted += 1
            return True
        if crisis and self._crisis < self.per_hour:
            self._crisis += 1
            return True
        return False

    def crisis_open(self, now: float) -> bool:
        """Whether the crisis path still admits strangers this hour."""
        self._roll(now)
        return self._crisis < self.per_hour

    def tell(self, key: bytes, now: float) -> bool:
        """Whether to tell this refused stranger (once an hour, and never past the bound)."""
        self._roll(now)
        short = bytes(key[:KEY_BYTES])
        if short in self._told or len(self._told) >= self._capacity:
            return False
        self._told.add(short)
        return True


FLOOD_IGNORE_AFTER = 30
"""Updates dropped while slowed before the account is ignored."""
FLOOD_IGNORE_MINUTES = 10


@dataclass(frozen=True)
class Limits:
    """The limiters one bot process keeps, built once from the settings."""

    flood: FloodGuard
    relay: RelayLimit
    newcomers: NewcomerGate

    @classmethod
    def build(cls, *, burst: int, per_minute: int, new_members_per_hour: int) -> Limits:
        return cls(
            FloodGuard(
                Rate(burst, per_minute),
                ignore_after=FLOOD_IGNORE_AFTER,
                ignore_for=FLOOD_IGNORE_MINUTES * 60,
            ),
            RelayLimit(),
            NewcomerGate(new_members_per_hour),
        )
