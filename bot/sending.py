"""The sending policy: a member's answer goes out at once, bulk sends at Telegram's pace.

Telegram allows about one message a second in one chat, with short bursts, and
about thirty a second when a bot notifies many chats. Answers to a person's own
presses are not bulk. Every request the bot makes passes through
:class:`SendingPolicy`, which routes it by what it is:

- **interactive**: a request to the chat whose update is being handled (its
  screens, edits, deletions) and the answer to its callback query. It goes at
  once: a chat's updates are handled one at a time (bot.updates), so its
  answers come at the pace of that person's own taps, and a burst of members
  slows none of them. Only if Telegram says a chat is too fast does that chat,
  and only that chat, wait.
- **bulk**: a request to any other chat (notices to volunteers, relays, a
  member told about their request) and everything a scheduled job sends. The
  destination chat's pace applies (about one a second after a short burst, so
  a coordinator who is sent many notices at once is not flooded), then one
  lane for the whole bot at the bulk rate, in which urgent work goes before
  prompt work before routine work.
- **control**: requests that name no chat (getMe, setMyCommands): sent at once.

A ``RetryAfter`` pauses only what it concerns (an answer's chat, or the bulk
lane) for the time Telegram gave, and the request is sent again, a bulk one
keeping its place in the queue; network failures are retried a bounded number
of times. A handler waiting here gives up its place among the updates that run
at once (:class:`Slot`), so members parked behind bulk sends or flood control
never keep anyone else waiting: a ``/wipe`` is never queued behind bulk sends,
and a detained member's notices go ahead of every other bulk send.

A wipe takes no slot at all (:mod:`bot.updates` lets it past them, as a flood
may hold every one). Its answers are answers like any other, sent at once; its
farewell to volunteers (notices retired, relayed copies blanked, "the member
has gone") is bulk at urgent priority (:func:`wiping`). This replaces the
"wipe-first" limiter that let a wipe's calls past PTB's limiter: with answers
never queued, only the farewell needed a place, and it gets the first one
while still keeping within each chat's pace and the bulk rate.

What a request is comes from a context variable set per update by
:mod:`bot.updates` (the chat the update came from, and whether it is a wipe)
and by the scheduled jobs (bulk, routine); :func:`urgent` and
:func:`at_referral_urgency` raise the priority of what is sent inside them:
announcing an urgent request, its rounds and digests (bot.digest), and a
request escalated to "detained now".

PTB's own ``AIORateLimiter`` puts every request that names a chat through one
limiter of thirty a second for the whole bot, and any ``RetryAfter`` stops every
request of the bot until it has passed; it retries only ``RetryAfter``, and
knows nothing of which chat an update came from or of urgency.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import heapq
import itertools
import logging
import math
import warnings
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from storage.referrals import Referral

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C")

CHAT_RATE = 1.0
"""Bulk requests a second to one chat, sustained (Telegram: about one message a second)."""
CHAT_BURST = 20
"""Bulk requests one chat may get at once before its pace applies ("short bursts are fine")."""
BULK_RATE = 30.0
"""Bulk requests a second for the whole bot (Telegram: about thirty)."""
BULK_BURST = 5
MAX_FLOOD_WAITS = 10
"""RetryAfter waits for one request before it fails: Telegram's waits are accurate,
so needing more means something else is wrong."""
_FORGET_CHATS_ABOVE = 1024
"""Chats whose pace is tracked before idle ones are forgotten (chat ids live only here)."""
_UNPACED = frozenset({"answerCallbackQuery", "deleteMessage", "deleteMessages", "sendChatAction"})
"""Requests that post nothing in a chat, so its pace does not count them: Telegram's
limit is on messages."""


class Priority(enum.IntEnum):
    URGENT = 0
    """Someone detained or at immediate risk."""
    PROMPT = 1
    """Caused by a person's update: a relay, a notice of a new request."""
    ROUTINE = 2
    """Scheduled housekeeping."""


class Lane(enum.Enum):
    INTERACTIVE = "interactive"
    BULK = "bulk"
    CONTROL = "control"


NETWORK_RETRY_DELAYS: Mapping[Lane, tuple[float, ...]] = {
    # A member waits for an answer: retry at once, a few times.
    Lane.INTERACTIVE: (0.02, 0.05, 0.08),
    # Nobody watches a notice on its way: give Telegram time to recover.
    Lane.BULK: (0.2, 1.0, 2.0),
    Lane.CONTROL: (0.2, 1.0, 2.0),
}
"""Seconds before each retry after a network failure; their count bounds the retries."""


# -- where a request comes from ------------------------------------------------


class Slot:
    """An update's place among those the update processor runs at once.

    The sending policy gives it up while a request waits for its turn, and takes
    it back before sending; the processor releases it only if it is held.
    """

    def __init__(self, places: asyncio.Semaphore) -> None:
        self._places = places
        self._held = False
        self._given_up = False
        self._away = 0

    async def __aenter__(self) -> Slot:
        await self._places.acquire()
        self._held = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._held:
            self._held = False
            self._places.release()

    @contextlib.asynccontextmanager
    async def given_up(self) -> AsyncIterator[None]:
        """Free the place while waiting; concurrent waits of one handler share one release."""
        if self._away == 0 and self._held:
            self._held = False
            self._given_up = True
            self._places.release()
        self._away += 1
        try:
            yield
        finally:
            self._away -= 1
            if self._away == 0 and self._given_up:
                self._given_up = False
                # If this is cancelled, the place is not held and will not be released.
                await self._places.acquire()
                self._held = True


@dataclass(frozen=True)
class Origin:
    """What the running code is doing: answering a chat's update, or working in the background."""

    chat_id: int | None
    priority: Priority
    slot: Slot | None = None


_origin: ContextVar[Origin | None] = ContextVar("yardem_sending_origin", default=None)


@contextlib.contextmanager
def answering(chat_id: int | None, slot: Slot | None = None) -> Iterator[None]:
    """Inside, requests to ``chat_id`` answer its update; others are prompt bulk sends."""
    token = _origin.set(Origin(chat_id, Priority.PROMPT, slot))
    try:
        yield
    finally:
        _origin.reset(token)


@contextlib.contextmanager
def wiping(chat_id: int) -> Iterator[None]:
    """Inside, a member's wipe: its answers go at once, its bulk sends are urgent.

    The wipe's answers (deletions and blanks in the member's chat, its pop-up)
    are answers like any other. What it sends elsewhere is the farewell to
    volunteers: their notices retired, relayed copies blanked in their chats,
    "the member has gone". That is bulk, still within each chat's pace and the
    bot's bulk rate, but urgent: it goes ahead of every prompt and routine send,
    level with a detained member's notices, so no backlog starves it. Each
    account's wipes are few (bot.rate_limits.wipe_rate) and a member holds one
    open request, so the lane cannot be flooded this way. A wipe holds no slot
    (bot.updates), so there is none to give up while it waits.
    """
    token = _origin.set(Origin(chat_id, Priority.URGENT))
    try:
        yield
    finally:
        _origin.reset(token)


def current() -> Origin | None:
    """What the running code is doing, as requests made now would be routed."""
    return _origin.get()


@contextlib.contextmanager
def in_background(priority: Priority = Priority.ROUTINE) -> Iterator[None]:
    """Inside, every request is a bulk send of this priority."""
    token = _origin.set(Origin(None, priority))
    try:
        yield
    finally:
        _origin.reset(token)


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    """Inside, bulk sends go ahead of all others; answers stay answers."""
    current = _origin.get() or Origin(None, Priority.ROUTINE)
    token = _origin.set(replace(current, priority=Priority.URGENT))
    try:
        yield
    finally:
        _origin.reset(token)


def scheduled(
    job: Callable[[C], Coroutine[Any, Any, None]],
) -> Callable[[C], Coroutine[Any, Any, None]]:
    """A job callback whose requests are routine bulk sends, whatever context it inherited.

    APScheduler arms its timers from whatever task adds a job, so without this
    a job could run in a copy of some update's context and pass for its answer.
    """

    @functools.wraps(job)
    async def run(context: C) -> None:
        with in_background():
            await job(context)

    _scheduled_jobs.add(run)
    return run


_scheduled_jobs: weakref.WeakSet[Callable[..., object]] = weakref.WeakSet()


def is_scheduled(callback: Callable[..., object]) -> bool:
    """Whether ``callback`` was marked with :func:`scheduled` (the job queue is checked)."""
    return callback in _scheduled_jobs


def at_referral_urgency(send: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """For a method about a referral: an urgent referral's sends go ahead of all other bulk."""

    @functools.wraps(send)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if any(isinstance(value, Referral) and value.urgent for value in (*args, *kwargs.values())):
            with urgent():
                return await send(*args, **kwargs)
        return await send(*args, **kwargs)

    return wrapper


# -- the pure parts ------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    lane: Lane
    chat: int | str | None
    """Whose pace applies (and what a RetryAfter pauses); None for none."""
    priority: Priority
    paced: bool
    """Waits for, and counts against, the chat's pace (bulk messages only)."""


def _chat_of(value: object) -> int | str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    try:
        return int(text)
    except ValueError:
        return text  # "@channel": its own pace, as PTB does


def route(endpoint: str, data: Mapping[str, object], origin: Origin | None) -> Route:
    """Decide what a request is, from its method, its parameters and where it comes from."""
    chat = _chat_of(data.get("chat_id"))
    answering_chat = origin.chat_id if origin is not None else None
    if chat is None:
        if endpoint in _UNPACED and answering_chat is not None:
            return Route(Lane.INTERACTIVE, answering_chat, Priority.PROMPT, paced=False)
        return Route(Lane.CONTROL, None, Priority.PROMPT, paced=False)
    if answering_chat is not None and chat == answering_chat:
        return Route(Lane.INTERACTIVE, chat, Priority.PROMPT, paced=False)
    priority = origin.priority if origin is not None else Priority.ROUTINE
    return Route(Lane.BULK, chat, priority, paced=endpoint not in _UNPACED)


class Pacer:
    """The generic cell rate algorithm: ``rate`` a second on average, ``burst`` at once.

    Pure: the caller passes the time. :meth:`take` reserves the next permit and
    says how long to wait for it, so waiters are served in the order they came.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self._interval = 1 / rate
        self._tolerance = (burst - 1) * self._interval
        self._due = -math.inf  # the theoretical arrival time of the next request

    def delay(self, now: float) -> float:
        """How long a request arriving now would wait."""
        return max(0.0, self._due - self._tolerance - now)

    def take(self, now: float) -> float:
        wait = self.delay(now)
        self._due = max(self._due, now) + self._interval
        return wait

    def pause(self, until: float) -> None:
        """Nothing before ``until``; after it, no burst (Telegram just said it was too much)."""
        self._due = max(self._due, until + self._tolerance)

    def idle(self, now: float) -> bool:
        """A full burst is available again: forgetting this pacer changes nothing."""
        return self._due <= now


class Waitlist:
    """Tickets waiting for the bulk lane: the most urgent first, then first come."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int]] = []
        self._waiting: set[int] = set()

    def push(self, priority: Priority, ticket: int) -> None:
        heapq.heappush(self._heap, (int(priority), ticket))
        self._waiting.add(ticket)

    def remove(self, ticket: int) -> None:
        self._waiting.discard(ticket)  # left in the heap, skipped when it comes up

    def pop(self) -> int:
        while self._heap:
            _, ticket = heapq.heappop(self._heap)
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                return ticket
        raise IndexError("nobody is waiting")

    def __len__(self) -> int:
        return len(self._waiting)


# -- the lanes -----------------------------------------------------------------


@dataclass
class _ChatPace:
    pacer: Pacer
    paused_until: float = -math.inf


class _BulkLane:
    """One lane for the whole bot: a permit per request, most urgent waiter first."""

    def __init__(self, rate: float, burst: int) -> None:
        self._pacer = Pacer(rate, burst)
        self._waitlist = Waitlist()
        self._granted: dict[int, asyncio.Future[None]] = {}
        self._paused_until = -math.inf
        self._timer: asyncio.TimerHandle | None = None

    def try_take(self, now: float) -> bool:
        if self._waitlist or now < self._paused_until or self._pacer.delay(now) > 0:
            return False
        self._pacer.take(now)
        return True

    async def take(self, priority: Priority, ticket: int) -> None:
        loop = asyncio.get_running_loop()
        permit: asyncio.Future[None] = loop.create_future()
        self._granted[ticket] = permit
        self._waitlist.push(priority, ticket)
        self._grant(loop)
        try:
            await permit
        finally:
            self._waitlist.remove(ticket)
            self._granted.pop(ticket, None)

    def pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)
        self._pacer.pause(until)

    def _grant(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        while self._waitlist and now >= self._paused_until and self._pacer.delay(now) == 0:
            permit = self._granted.get(self._waitlist.pop())
            if permit is None or permit.done():
                continue  # cancelled while waiting
            self._pacer.take(now)
            permit.set_result(None)
        if self._waitlist and self._timer is None:
            wait = max(self._pacer.delay(now), self._paused_until - now)
            self._timer = loop.call_later(wait, self._on_timer, loop)

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        self._grant(loop)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _retry_after_seconds(error: RetryAfter) -> float:
    # PTB warns on reading retry_after until it becomes a timedelta for good.
    period = getattr(error, "_retry_after", None)
    if isinstance(period, timedelta):
        return period.total_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SendingPolicy(BaseRateLimiter[int]):
    """PTB's hook for every request but getUpdates: pace, queue, wait out flood control, retry."""

    def __init__(
        self,
        *,
        chat_rate: float = CHAT_RATE,
        chat_burst: int = CHAT_BURST,
        bulk_rate: float = BULK_RATE,
        bulk_burst: int = BULK_BURST,
    ) -> None:
        self._chat_rate = chat_rate
        self._chat_burst = chat_burst
        self._chats: dict[int | str, _ChatPace] = {}
        self._bulk = _BulkLane(bulk_rate, bulk_burst)
        self._tickets = itertools.count()

    async def initialize(self) -> None:
        """Nothing to set up: paces are created on demand."""

    async def shutdown(self) -> None:
        self._bulk.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        origin = _origin.get()
        where = route(endpoint, data, origin)
        ticket = next(self._tickets)  # kept across retries, so a retry keeps its place
        delays = NETWORK_RETRY_DELAYS[where.lane]
        flood_waits = network_failures = 0
        while True:
            await self._admit(where, ticket, origin)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                flood_waits += 1
                if flood_waits > MAX_FLOOD_WAITS:
                    log.warning("a %s request failed: flood control did not end", where.lane.value)
                    raise
                seconds = _retry_after_seconds(error)
                log.info(
                    "Telegram asked to wait %.1f s before sending again (%s)",
                    seconds,
                    where.lane.value,
                )
                await self._pause(where, seconds, origin)
            except BadRequest:
                raise  # our request was wrong; sending it again will not help
            except NetworkError:
                if network_failures >= len(delays):
                    raise
                await asyncio.sleep(delays[network_failures])
                network_failures += 1

    async def _admit(self, where: Route, ticket: int, origin: Origin | None) -> None:
        """Wait until the request may go: its chat's pause or pace, then (bulk) the bulk lane."""
        loop = asyncio.get_running_loop()
        pace = self._pace(where.chat, loop.time()) if where.chat is not None else None
        wait = pace.pacer.take(loop.time()) if pace is not None and where.paced else 0.0
        if pace is not None:
            wait = max(wait, pace.paused_until - loop.time())
        bulk_ready = where.lane is not Lane.BULK or (wait <= 0 and self._bulk.try_take(loop.time()))
        if wait <= 0 and bulk_ready:
            return
        slot = origin.slot if origin is not None else None
        async with slot.given_up() if slot is not None else contextlib.nullcontext():
            while wait > 0:
                await asyncio.sleep(wait)
                # Telegram may have paused the chat meanwhile.
                wait = pace.paused_until - loop.time() if pace is not None else 0.0
            if not bulk_ready:
                await self._bulk.take(where.priority, ticket)

    async def _pause(self, where: Route, seconds: float, origin: Origin | None) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        if where.lane is Lane.BULK:
            # Our chat paces keep each chat within its limit, so it is the
            # bot's bulk rate that Telegram refused. The retry keeps its place.
            self._bulk.pause(until)
        elif where.chat is not None:
            pace = self._pace(where.chat, loop.time())
            pace.paused_until = max(pace.paused_until, until)
            pace.pacer.pause(until)
        else:
            # Nothing to pause: wait here, without holding a place meanwhile.
            slot = origin.slot if origin is not None else None
            async with slot.given_up() if slot is not None else contextlib.nullcontext():
                await asyncio.sleep(seconds)

    def _pace(self, chat: int | str, now: float) -> _ChatPace:
        pace = self._chats.get(chat)
        if pace is None:
            if len(self._chats) >= _FORGET_CHATS_ABOVE:
                self._chats = {
                    key: kept
                    for key, kept in self._chats.items()
                    if not kept.pacer.idle(now) or kept.paused_until > now
                }
            pace = self._chats[chat] = _ChatPace(Pacer(self._chat_rate, self._chat_burst))
        return pace
