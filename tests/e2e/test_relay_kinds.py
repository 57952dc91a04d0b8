"""What the relay passes and what it refuses, both ways, over the fake Bot API.

Each refused kind is tried by a member and by a volunteer in a live
conversation: the other side sees nothing, the sender is told why, and a
member's refused message leaves their own chat too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot import referral_texts, staff_texts
from tests.e2e.harness import RunningBot
from tests.e2e.relay_steps import conversation, team, texts_of
from tests.e2e.steps import any_message
from tests.fakebot import FakeUser

REFUSED: dict[str, tuple[Callable[[FakeUser], int], str]] = {
    "contact": (lambda u: u.send_contact(), "kind"),
    "location": (lambda u: u.send_location(), "kind"),
    "venue": (lambda u: u.send_venue(), "kind"),
    "poll": (lambda u: u.send_poll(), "kind"),
    "dice": (lambda u: u.send_dice(), "kind"),
    "game": (lambda u: u.send_game(), "kind"),
    "sticker from a pack": (lambda u: u.send_sticker(), "kind"),
    "sticker without a pack": (lambda u: u.send_sticker(set_name=None), "kind"),
    "executable": (
        lambda u: u.send_document(file_name="setup.exe", mime_type="application/x-msdownload"),
        "file",
    ),
    "archive": (
        lambda u: u.send_document(file_name="papers.zip", mime_type="application/zip"),
        "file",
    ),
    "executable named like a PDF": (
        lambda u: u.send_document(file_name="scan.pdf.exe", mime_type="application/pdf"),
        "file",
    ),
    "PDF name with another type": (
        lambda u: u.send_document(file_name="scan.pdf", mime_type="application/x-msdownload"),
        "file",
    ),
}


@pytest.mark.parametrize("kind", list(REFUSED))
async def test_a_refused_kind_reaches_no_one_either_way(bot: RunningBot, kind: str) -> None:
    _, alice, _ = await team(bot, 8400000)
    tr = bot.tr("en")
    member, _ = await conversation(bot, alice, 8400010)
    send, reason = REFUSED[kind]

    in_alice_chat = len(alice.visible_messages())
    mark = bot.server.mark()
    sent = send(member)
    told = (
        referral_texts.relay_refused_file(tr)
        if reason == "file"
        else referral_texts.relay_refused_kind(tr)
    )
    await member.wait_for_message(text=tr.finish(told), after=mark)
    await bot.settle()  # nothing follows: nothing reaches the volunteer
    assert len(alice.visible_messages()) == in_alice_chat, f"a {kind} reached the volunteer"
    assert sent not in member.message_ids(), "it also leaves the member's own phone"

    in_member_chat = len(member.visible_messages())
    mark = bot.server.mark()
    send(alice)
    told = (
        staff_texts.relay_refused_file(tr)
        if reason == "file"
        else staff_texts.relay_refused_kind(tr)
    )
    await alice.wait_for_message(text=told, after=mark)
    await bot.settle()  # nothing follows: nothing reaches the member
    assert len(member.visible_messages()) == in_member_chat, f"a {kind} reached the member"
    assert not bot.server.calls("copyMessage") or all(
        call.params.get("message_id") != sent for call in bot.server.calls("copyMessage")
    )


SAFE: dict[str, tuple[Callable[[FakeUser], int], str]] = {
    "text": (lambda u: u.send_text("plain words 7401"), "text"),
    "photo": (lambda u: u.send_photo(caption="a photo 7402"), "photo"),
    "voice note": (lambda u: u.send_voice(), "voice"),
    "video note": (lambda u: u.send_video_note(), "video_note"),
    "video": (lambda u: u.send_video(caption="a video 7403"), "video"),
    "PDF": (lambda u: u.send_document(), "document"),
    "image file": (
        lambda u: u.send_document(file_name="scan.PNG", mime_type="image/png"),
        "document",
    ),
}


async def test_safe_kinds_pass_both_ways(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8400100)
    member, _ = await conversation(bot, alice, 8400110)
    for kind, (send, field) in SAFE.items():
        for sender, receiver in ((member, alice), (alice, member)):
            mark = bot.server.mark()
            send(sender)
            copy = await receiver.wait_for_message(predicate=any_message, after=mark)
            assert copy.message_id == receiver.last_message().message_id
            assert field in copy.raw, f"{kind} from {sender}"
            assert copy.protect_content
            assert "forward_origin" not in copy.raw


LINK = [{"type": "text_link", "offset": 0, "length": 9, "url": "https://evil.example/track"}]
SOMEONE = {"id": 1, "is_bot": False, "first_name": "X"}
MENTION = [{"type": "text_mention", "offset": 10, "length": 4, "user": SOMEONE}]
BOLD = [{"type": "bold", "offset": 15, "length": 5}]
CAPTION = "see here for more"


async def test_hidden_link_targets_and_mentions_are_stripped_both_ways(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8400200)
    member, _ = await conversation(bot, alice, 8400210)
    text = "click here mate right now"
    for sender, receiver in ((member, alice), (alice, member)):
        mark = bot.server.mark()
        sender.send_text_with_entities(text, [*LINK, *MENTION, *BOLD])
        copy = await receiver.wait_for_message(predicate=any_message, after=mark)
        assert copy.message_id == receiver.last_message().message_id
        assert copy.text == text, "the words pass"
        assert copy.entities == BOLD, "formatting stays, hidden targets go"
        assert "evil.example" not in str(copy.raw)

        mark = bot.server.mark()
        sender.send_photo_with_entities(CAPTION, LINK)
        copy = await receiver.wait_for_message(text=CAPTION, after=mark)
        assert copy.message_id == receiver.last_message().message_id
        assert "photo" in copy.raw
        assert "evil.example" not in str(copy.raw)


async def test_edits_are_never_relayed_and_the_sender_is_told(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8400300)
    tr = bot.tr("en")
    member, _ = await conversation(bot, alice, 8400310)

    mark = bot.server.mark()
    first = member.send_text("first version 7404")
    await alice.wait_for_message(text="first version 7404", after=mark)
    in_alice_chat = len(alice.visible_messages())
    mark = bot.server.mark()
    member.edit_text(first, "changed to name a street 7405")
    await member.wait_for_message(text=tr.finish(referral_texts.relay_edit_refused(tr)), after=mark)
    await bot.settle()  # nothing follows: the edit reaches no one
    assert len(alice.visible_messages()) == in_alice_chat
    assert "changed to name a street 7405" not in str([m.raw for m in alice.visible_messages()])

    mark = bot.server.mark()
    reply = alice.send_text("my first answer 7406")
    await member.wait_for_message(text="my first answer 7406", after=mark)
    in_member_chat = len(member.visible_messages())
    mark = bot.server.mark()
    alice.edit_text(reply, "my second answer 7407")
    await alice.wait_for_message(text=staff_texts.relay_edit_refused(tr), after=mark)
    await bot.settle()  # nothing follows: the edit reaches no one
    assert len(member.visible_messages()) == in_member_chat
    assert "my second answer 7407" not in texts_of(member)


async def test_an_edited_command_is_not_run_again(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8400400)
    member, referral = await conversation(bot, alice, 8400410)
    tr = bot.tr("en")
    mark = bot.server.mark()
    command = alice.send_text("/mine")
    await alice.wait_for_button(staff_texts.release_label(tr), after=mark)
    in_alice_chat = len(alice.visible_messages())
    in_member_chat = len(member.visible_messages())
    alice.edit_text(command, "/mine")
    await bot.settle()  # fetched, and nothing follows
    assert len(alice.visible_messages()) == in_alice_chat
    assert len(member.visible_messages()) == in_member_chat
    del referral
