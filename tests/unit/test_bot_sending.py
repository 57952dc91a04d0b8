"""The sending policy: what a request is, who goes first, and that nothing is lost."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Chat, Message, Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot import digest, member_handlers, sending
from bot.referral_desk import Desk
from bot.sending import (
    NETWORK_RETRY_DELAYS,
    Lane,
    Origin,
    Pacer,
    Priority,
    SendingPolicy,
    Waitlist,
    route,
)
from bot.updates import PerChatUpdateProcessor
from storage.referrals import Escalated, Referral
from storage.staff import Role, StaffMember

MEMBER = 1001
VOLUNTEER = 2002


def _current() -> Origin | None:
    return sending._origin.get()


def _route_here(endpoint: str, data: dict[str, Any]) -> sending.Route:
    return route(endpoint, data, _current())


# -- classification -------------------------------------------------------------


def test_requests_to_the_updates_own_chat_are_answers() -> None:
    with sending.answering(MEMBER):
        for method in ("sendMessage", "editMessageText", "copyMessage", "deleteMessages"):
            where = _route_here(method, {"chat_id": MEMBER})
            assert where.lane is Lane.INTERACTIVE
            assert where.chat == MEMBER, "flood control on it pauses that chat"
            assert not where.paced, "answers never wait for a pace"
        # PTB may pass the id as a string (a username never matches).
        assert _route_here("sendMessage", {"chat_id": str(MEMBER)}).lane is Lane.INTERACTIVE


def test_the_callback_answer_is_an_answer_but_no_message_in_the_chat() -> None:
    with sending.answering(MEMBER):
        where = _route_here("answerCallbackQuery", {"callback_query_id": "7"})
    assert where.lane is Lane.INTERACTIVE
    assert where.chat == MEMBER, "flood control on it pauses that chat only"
    assert not where.paced


def test_other_chats_are_bulk_prompt_from_an_update_and_routine_from_a_job() -> None:
    with sending.answering(MEMBER):
        relay = _route_here("copyMessage", {"chat_id": VOLUNTEER, "from_chat_id": MEMBER})
    assert (relay.lane, relay.chat, relay.priority) == (Lane.BULK, VOLUNTEER, Priority.PROMPT)
    assert relay.paced
    with sending.answering(MEMBER):
        tidy = _route_here("deleteMessages", {"chat_id": VOLUNTEER})
    assert (tidy.lane, tidy.paced) == (Lane.BULK, False), "Telegram paces messages, not deletions"
    with sending.in_background():
        job = _route_here("sendMessage", {"chat_id": MEMBER})
    assert (job.lane, job.priority) == (Lane.BULK, Priority.ROUTINE)
    outside = route("sendMessage", {"chat_id": MEMBER}, None)
    assert (outside.lane, outside.priority) == (Lane.BULK, Priority.ROUTINE)
    assert route("sendMessage", {"chat_id": "@channel"}, None).chat == "@channel"


def test_requests_naming_no_chat_are_control() -> None:
    for method, origin in (
        ("getMe", None),
        ("setMyCommands", None),
        ("answerCallbackQuery", None),
        ("getFile", Origin(MEMBER, Priority.PROMPT)),
    ):
        assert route(method, {}, origin).lane is Lane.CONTROL


def test_urgent_raises_bulk_and_leaves_answers_alone() -> None:
    with sending.answering(MEMBER), sending.urgent():
        assert _route_here("sendMessage", {"chat_id": VOLUNTEER}).priority is Priority.URGENT
        assert _route_here("editMessageText", {"chat_id": MEMBER}).lane is Lane.INTERACTIVE
    with sending.in_background(), sending.urgent():
        assert _route_here("sendMessage", {"chat_id": MEMBER}).priority is Priority.URGENT
    assert _current() is None, "nothing leaks out of the blocks"


def _referral(urgency: str) -> Referral:
    return Referral(
        id="r1",
        member_key=b"k" * 32,
        topic="detained",
        urgency=urgency,
        country=None,
        language="en",
        status="open",
        volunteer=None,
        outcome=None,
        created_day=date(2025, 1, 1),
        notify_count=0,
    )


async def test_an_urgent_referrals_notices_are_urgent() -> None:
    seen: list[Priority] = []

    class Desk:
        @sending.at_referral_urgency
        async def announce(self, referral: Referral, recipients: list[int]) -> int:
            seen.append(_route_here("sendMessage", {"chat_id": VOLUNTEER}).priority)
            return len(recipients)

    with sending.answering(MEMBER):
        await Desk().announce(_referral("detained"), [1])
        await Desk().announce(_referral("general"), [1])
        await Desk().announce(referral=_referral("immediate_risk"), recipients=[1])
    assert seen == [Priority.URGENT, Priority.PROMPT, Priority.URGENT]


async def test_jobs_are_routine_bulk_whatever_context_they_inherit() -> None:
    seen: list[sending.Route] = []

    @sending.scheduled
    async def job(context: object) -> None:
        seen.append(_route_here("sendMessage", {"chat_id": MEMBER}))

    with sending.answering(MEMBER):  # as if APScheduler armed its timer inside an update
        await job(None)
    assert (seen[0].lane, seen[0].priority) == (Lane.BULK, Priority.ROUTINE)


# -- pacing and order ----------------------------------------------------------


def test_a_pacer_allows_a_burst_then_its_rate() -> None:
    pacer = Pacer(rate=1.0, burst=3)
    assert [pacer.take(10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.take(10.0) == pytest.approx(1.0)
    assert pacer.take(10.0) == pytest.approx(2.0), "waiters queue up in order"
    assert not pacer.idle(12.0)
    assert pacer.idle(15.0)
    assert pacer.delay(15.0) == 0.0


def test_a_paused_pacer_waits_and_then_has_no_burst() -> None:
    pacer = Pacer(rate=1.0, burst=5)
    pacer.pause(until=20.0)
    assert pacer.delay(10.0) == pytest.approx(10.0)
    assert pacer.take(20.0) == 0.0
    assert pacer.take(20.0) == pytest.approx(1.0)


def test_the_waitlist_serves_urgent_then_prompt_then_routine_each_in_order() -> None:
    waitlist = Waitlist()
    arrivals = [
        (Priority.ROUTINE, 1),
        (Priority.PROMPT, 2),
        (Priority.ROUTINE, 3),
        (Priority.URGENT, 4),
        (Priority.PROMPT, 5),
        (Priority.URGENT, 6),
    ]
    for priority, ticket in arrivals:
        waitlist.push(priority, ticket)
    waitlist.remove(5)
    assert len(waitlist) == 5
    assert [waitlist.pop() for _ in range(5)] == [4, 6, 2, 1, 3]
    with pytest.raises(IndexError):
        waitlist.pop()


# -- the policy with a stand-in for the network ----------------------------------


class Wire:
    """Stands in for PTB's HTTP request: records each call, fails as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.failures: dict[object, list[Exception]] = {}

    def request(self, policy: SendingPolicy, endpoint: str, chat: object, tag: object) -> Any:
        data: dict[str, Any] = {} if chat is None else {"chat_id": chat}

        async def send() -> bool:
            self.calls.append((endpoint, tag))
            pending = self.failures.get(tag)
            if pending:
                raise pending.pop(0)
            return True

        return policy.process_request(send, (), {}, endpoint, data, None)


async def test_urgent_bulk_sends_overtake_queued_routine_ones() -> None:
    policy = SendingPolicy(bulk_rate=200.0, bulk_burst=1)
    wire = Wire()
    with sending.in_background():
        await wire.request(policy, "sendMessage", 1, "first")  # uses the burst
        routine = [
            asyncio.create_task(wire.request(policy, "sendMessage", 10 + n, f"routine {n}"))
            for n in range(3)
        ]
        await asyncio.sleep(0)
        with sending.urgent():
            urgent = asyncio.create_task(wire.request(policy, "sendMessage", 99, "urgent"))
        await asyncio.gather(*routine, urgent)
    assert [tag for _, tag in wire.calls] == [
        "first",
        "urgent",
        "routine 0",
        "routine 1",
        "routine 2",
    ]


async def test_answers_skip_the_bulk_queue() -> None:
    policy = SendingPolicy(bulk_rate=50.0, bulk_burst=1)
    wire = Wire()
    with sending.in_background():
        backlog = [
            asyncio.create_task(wire.request(policy, "sendMessage", 10 + n, f"notice {n}"))
            for n in range(5)
        ]
    await asyncio.sleep(0)
    with sending.answering(MEMBER):
        await wire.request(policy, "editMessageText", MEMBER, "answer")
    assert [tag for _, tag in wire.calls[:2]] == ["notice 0", "answer"]
    await asyncio.gather(*backlog)


async def test_flood_control_is_waited_out_and_pauses_only_that_chat() -> None:
    policy = SendingPolicy()
    wire = Wire()
    wire.failures["first"] = [RetryAfter(0.05)]
    with sending.answering(MEMBER):
        refused = asyncio.create_task(wire.request(policy, "editMessageText", MEMBER, "first"))
        await asyncio.sleep(0.01)
    with sending.answering(VOLUNTEER):
        await wire.request(policy, "editMessageText", VOLUNTEER, "other chat")
    assert await refused is True
    assert [tag for _, tag in wire.calls] == ["first", "other chat", "first"]


async def test_a_bulk_flood_refusal_keeps_its_place_in_the_queue() -> None:
    policy = SendingPolicy(bulk_rate=100.0, bulk_burst=1)
    wire = Wire()
    wire.failures["a"] = [RetryAfter(0.02)]
    with sending.in_background():
        sends = [
            asyncio.create_task(wire.request(policy, "sendMessage", 10 + n, tag))
            for n, tag in enumerate("abc")
        ]
        await asyncio.gather(*sends)
    assert [tag for _, tag in wire.calls] == ["a", "a", "b", "c"]


@pytest.mark.parametrize("lane", [Lane.INTERACTIVE, Lane.BULK, Lane.CONTROL])
async def test_network_failures_are_retried_a_bounded_number_of_times(
    lane: Lane, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(NETWORK_RETRY_DELAYS, lane, (0.0,) * len(NETWORK_RETRY_DELAYS[lane]))
    attempts = len(NETWORK_RETRY_DELAYS[lane]) + 1
    policy = SendingPolicy()
    wire = Wire()
    chat = None if lane is Lane.CONTROL else MEMBER
    origin = MEMBER if lane is Lane.INTERACTIVE else None
    wire.failures["blip"] = [TimedOut()] * (attempts - 1)
    wire.failures["down"] = [NetworkError("Bad Gateway")] * attempts
    wire.failures["wrong"] = [BadRequest("message to edit not found")]
    with sending.answering(origin) if origin else sending.in_background():
        assert await wire.request(policy, "sendMessage", chat, "blip") is True
        with pytest.raises(NetworkError):
            await wire.request(policy, "sendMessage", chat, "down")
        with pytest.raises(BadRequest):
            await wire.request(policy, "sendMessage", chat, "wrong")
    counts = {tag: sum(1 for _, seen in wire.calls if seen == tag) for tag in ("blip", "down")}
    assert counts == {"blip": attempts, "down": attempts}
    assert sum(1 for _, tag in wire.calls if tag == "wrong") == 1, "our mistakes are not repeated"


def _update(update_id: int, chat_id: int, text: str) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, text=text)  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_a_handler_waiting_behind_bulk_sends_lets_other_updates_run() -> None:
    """With one slot, a member's press still runs while another update's notice waits.

    Neither update is a wipe: a wipe takes no slot at all (tests/unit/test_wipe_priority.py).
    """
    processor = PerChatUpdateProcessor(max_concurrent_updates=1)
    policy = SendingPolicy(bulk_rate=100.0, bulk_burst=1)
    wire = Wire()
    order: list[str] = []

    async def announcing() -> None:
        for n in range(3):  # the second and third wait for the bulk lane
            await wire.request(policy, "sendMessage", 10 + n, f"notice {n}")
        order.append("announced")

    async def answering() -> None:
        await wire.request(policy, "editMessageText", MEMBER, "answer")
        order.append("answered")

    busy = asyncio.create_task(
        processor.process_update(_update(1, VOLUNTEER, "/invite volunteer"), announcing())
    )
    await asyncio.sleep(0.001)
    await processor.process_update(_update(2, MEMBER, "/menu"), answering())
    await busy
    assert order == ["answered", "announced"]


async def test_a_wipe_is_urgent_and_its_answers_go_at_once() -> None:
    seen: list[sending.Route] = []

    async def wipe() -> None:
        seen.append(_route_here("deleteMessages", {"chat_id": MEMBER}))
        seen.append(_route_here("editMessageText", {"chat_id": VOLUNTEER}))

    await PerChatUpdateProcessor().process_update(_update(1, MEMBER, "/wipe"), wipe())
    own, farewell = seen
    assert own.lane is Lane.INTERACTIVE, "the member's own chat is answered at once"
    assert (farewell.lane, farewell.priority) == (Lane.BULK, Priority.URGENT)
    assert farewell.paced, "the volunteer's chat keeps its pace"


async def test_bulk_sends_to_one_chat_keep_its_pace_without_holding_up_other_chats() -> None:
    policy = SendingPolicy(chat_rate=50.0, chat_burst=2, bulk_rate=1000.0, bulk_burst=10)
    wire = Wire()
    with sending.in_background():
        to_one = [
            asyncio.create_task(wire.request(policy, "sendMessage", VOLUNTEER, f"notice {n}"))
            for n in range(3)
        ]
        await asyncio.sleep(0)
        await wire.request(policy, "sendMessage", MEMBER, "elsewhere")
        await asyncio.gather(*to_one)
    assert [tag for _, tag in wire.calls] == ["notice 0", "notice 1", "elsewhere", "notice 2"]


# -- main's senders: what they send, at which priority ------------------------------


class _Recorder:
    """Stands in for the desk's senders: notes the priority each send would go at."""

    def __init__(self) -> None:
        self.priorities: list[Priority] = []

    def note(self) -> None:
        self.priorities.append(_route_here("sendMessage", {"chat_id": VOLUNTEER}).priority)


def _staff(key: bytes, role: Role) -> StaffMember:
    return StaffMember(key, role, True, "L", "en", frozenset({"en"}), None)


async def _a_round(monkeypatch: pytest.MonkeyPatch, urgencies: tuple[str, ...]) -> list[Priority]:
    """One round of bot.digest.renotify, its storage and senders stood in for."""
    recorder = _Recorder()
    referrals = [
        replace(_referral(urgency), id=f"r{n}", notify_count=1)
        for n, urgency in enumerate(urgencies)
    ]

    async def due_renotify(*, now: int) -> list[Referral]:
        return referrals

    async def mark_notified(referral: Referral, *, now: int, next_at: int | None) -> bool:
        return True

    async def take_with_companions(ids: list[str]) -> list[tuple[str, bytes, int]]:
        return [(ids[0], b"c" * 32, 7)]  # an earlier round's notice, deleted first

    async def everyone() -> list[StaffMember]:
        return [_staff(b"c" * 32, "coordinator"), _staff(b"v" * 32, "volunteer")]

    async def sent(*args: object) -> None:
        recorder.note()

    services = SimpleNamespace(
        clock=lambda: datetime(2025, 1, 1, 12, 0),
        referrals=SimpleNamespace(due_renotify=due_renotify, mark_notified=mark_notified),
        notices=SimpleNamespace(take_with_companions=take_with_companions),
        staff=SimpleNamespace(everyone=everyone),
    )
    desk = SimpleNamespace(services=services, delete_notices=sent, announce=sent)
    monkeypatch.setattr(digest, "_send_digest", sent)
    with sending.in_background():  # as the job runs it
        assert await digest.renotify(desk) == len(urgencies)  # type: ignore[arg-type]
    return recorder.priorities


async def test_an_urgent_round_and_its_digests_go_first_among_bulk_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two urgent requests in English: both accounts get one digest listing
    # them; an earlier round's notice is deleted first.
    priorities = await _a_round(monkeypatch, ("detained", "immediate_risk"))
    assert len(priorities) == 3, "the deletion, then one message for each account"
    assert set(priorities) == {Priority.URGENT}


async def test_a_round_with_no_urgent_request_stays_routine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A request handed back by the admin CLI is announced once by the rounds.
    assert set(await _a_round(monkeypatch, ("general",))) == {Priority.ROUTINE}


async def test_a_request_escalated_to_detained_is_announced_urgently() -> None:
    recorder = _Recorder()

    class Recording(Desk):
        async def _tell_escalation(self, escalated: Escalated) -> None:
            recorder.note()

    desk = Recording(bot=None, services=None)  # type: ignore[arg-type]
    with sending.answering(MEMBER):  # the member's own press escalates it
        await desk._announce_escalation(Escalated(_referral("detained"), True, []))
    assert recorder.priorities == [Priority.URGENT]


async def test_a_wipes_self_deleting_note_is_deleted_urgently_by_its_job() -> None:
    """When a press is too old for a pop-up, the wipe's note is deleted a minute later."""
    seen: list[sending.Route] = []

    async def delete_messages(chat_id: int, message_ids: list[int]) -> bool:
        seen.append(_route_here("deleteMessages", {"chat_id": chat_id}))
        return True

    context = SimpleNamespace(
        job=SimpleNamespace(data=(MEMBER, 41)),
        bot=SimpleNamespace(delete_messages=delete_messages),
    )
    with sending.answering(MEMBER):  # APScheduler may arm the timer inside the wipe's update
        await member_handlers._delete_later(context)  # type: ignore[arg-type]
    assert [(where.lane, where.priority) for where in seen] == [(Lane.BULK, Priority.URGENT)]
