"""After a whole journey, nothing that identifies the member is on disk or in the logs."""

from __future__ import annotations

import json
import logging
import struct
from pathlib import Path

from bot import texts
from bot.sending import NETWORK_RETRY_DELAYS, Lane
from tests.e2e.harness import FakeClock, RunningBot, capture_logs, running_bot, settings_for
from tests.e2e.steps import choose_language, node_text, say, tap
from tests.fakebot import TEST_TOKEN, FakeBotApi

CANARY_ID = 6029384756
CANARY_USERNAME = "canary_handle_q7x"
CANARY_FIRST_NAME = "Canaryfirstname"
CANARY_TEXT = "my canary secret sentence 4711"


def _needles() -> dict[str, bytes]:
    return {
        "decimal id": str(CANARY_ID).encode(),
        "id as int64 (big endian)": struct.pack(">q", CANARY_ID),
        "id as int64 (little endian)": struct.pack("<q", CANARY_ID),
        "username": CANARY_USERNAME.encode(),
        "username (utf-16)": CANARY_USERNAME.encode("utf-16-le"),
        "first name": CANARY_FIRST_NAME.encode(),
        "typed text": CANARY_TEXT.encode(),
        "bot token": TEST_TOKEN.encode(),
    }


def _scan(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        data = path.read_bytes()
        for name, needle in _needles().items():
            if needle in data:
                found.append(f"{name} in {path.name}")
    return found


async def _decrypted_states(bot: RunningBot) -> bytes:
    connection = bot.services.database.connection
    rows = await connection.execute_fetchall("SELECT member_key FROM members")
    states = [await bot.services.members.load(bytes(row[0])) for row in rows]
    messages = await connection.execute_fetchall("SELECT message_id, sent_hour FROM chat_messages")
    return (json.dumps([s.to_json() for s in states if s]) + repr(list(messages))).encode()


async def test_no_ids_names_or_text_in_database_wal_or_logs(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(server, data_dir)
    member = server.user(
        CANARY_ID, first_name=CANARY_FIRST_NAME, username=CANARY_USERNAME, language_code="en"
    )
    with capture_logs() as logs:
        async with running_bot(server, settings, clock) as bot:
            tr = bot.tr("en")
            await choose_language(bot, member, "en")
            await tap(
                bot,
                member,
                "Red Notices and Diffusions",
                text=node_text(bot, tr, "red_notices", "intro"),
            )
            await say(bot, member, CANARY_TEXT, containing=texts.typed_text_deleted(tr))
            mark = server.mark()
            member.press_data("forged|" + CANARY_TEXT[:20], member.last_message().message_id)
            await member.wait_for_message(containing=texts.stale(tr), after=mark)
            # An error path too: the apology must not log the payload either.
            # Failing every retry too, so the answer becomes an apology.
            server.inject_error(
                "editMessageText",
                error_code=500,
                description="Internal",
                times=len(NETWORK_RETRY_DELAYS[Lane.INTERACTIVE]) + 1,
            )
            await tap(bot, member, "About and privacy", containing=texts.something_went_wrong(tr))
            apology = texts.something_went_wrong(bot.tr("en"))
            # Encryption would hide a leak from the byte scan: look inside too.
            decrypted = await _decrypted_states(bot)
            assert decrypted, "the member's state was stored"
            inside = [name for name, needle in _needles().items() if needle in decrypted]
            # While running, the WAL holds the latest pages.
            files = sorted(p for p in data_dir.iterdir() if p.is_file())
            assert any(p.name.endswith("-wal") for p in files)
            during = _scan(files)
        after = _scan(sorted(p for p in data_dir.iterdir() if p.is_file()))
        logging.getLogger("tests").info("journey finished")

    assert logs.text, "logs were captured"
    assert during == []
    assert after == []
    assert inside == [], "the decrypted state holds no ids, names or typed text"
    log_hits = [
        name for name, needle in _needles().items() if needle.decode("latin-1") in logs.text
    ]
    assert log_hits == []
    assert any((m.text or "").startswith(apology) for m in member.visible_messages()), (
        "the member was answered despite the error"
    )


async def test_root_key_file_is_private_and_separate_from_the_database(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    async with running_bot(server, settings_for(server, data_dir), clock):
        pass
    key_file = settings_for(server, data_dir).key_file
    assert not key_file.is_relative_to(data_dir), "a copy of DATA_DIR does not carry the key"
    assert not (data_dir / "root.key").exists()
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_line = next(
        line for line in key_file.read_text().splitlines() if line and not line.startswith("#")
    )
    material = key_line.split(":", 1)[1].encode()
    database = (data_dir / "yardem.sqlite3").read_bytes()
    assert material not in database


VOLUNTEER_ID = 7031425968
VOLUNTEER_USERNAME = "helper_handle_z3k"
VOLUNTEER_FIRST_NAME = "Volunteerfirstname"
VOLUNTEER_TEXT = "the volunteer canary reply 9146"
CAPTION_TEXT = "caption canary 3318"


def _referral_needles() -> dict[str, bytes]:
    extra = {
        "volunteer id": str(VOLUNTEER_ID).encode(),
        "volunteer id as int64": struct.pack("<q", VOLUNTEER_ID),
        "volunteer id as int64 (big endian)": struct.pack(">q", VOLUNTEER_ID),
        "volunteer username": VOLUNTEER_USERNAME.encode(),
        "volunteer first name": VOLUNTEER_FIRST_NAME.encode(),
        "volunteer text": VOLUNTEER_TEXT.encode(),
        "caption": CAPTION_TEXT.encode(),
    }
    return {**_needles(), **extra}


async def test_referrals_and_the_relay_leave_no_ids_names_or_text(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    from tests.e2e.referral_steps import (
        approve_languages,
        ask_for_volunteer,
        claim,
        close_held,
        invite,
        join,
        make_coordinator,
        only_referral,
    )

    data_dir = tmp_path / "data"
    settings = settings_for(server, data_dir)
    member = server.user(
        CANARY_ID, first_name=CANARY_FIRST_NAME, username=CANARY_USERNAME, language_code="en"
    )
    helper = server.user(
        VOLUNTEER_ID,
        first_name=VOLUNTEER_FIRST_NAME,
        username=VOLUNTEER_USERNAME,
        language_code="en",
    )
    coordinator = server.user(7031425000, first_name="Coordinator", language_code="en")
    needles = _referral_needles()
    with capture_logs() as logs:
        async with running_bot(server, settings, clock) as bot:
            await make_coordinator(bot, coordinator)
            await join(bot, helper, await invite(bot, coordinator, "volunteer"))
            await approve_languages(bot, coordinator, helper, ("en",))
            await ask_for_volunteer(bot, member)
            await claim(bot, helper, await only_referral(bot, member))
            mark = server.mark()
            member.send_text(CANARY_TEXT)
            member.send_photo(caption=CAPTION_TEXT)
            await helper.wait_for_message(text=CAPTION_TEXT, after=mark)  # relayed in order
            mark = server.mark()
            helper.send_text(VOLUNTEER_TEXT)
            await member.wait_for_message(text=VOLUNTEER_TEXT, after=mark)
            assert member.last_message().text == VOLUNTEER_TEXT
            # Also while the referral is open: the notices, the chat references.
            files = sorted(p for p in data_dir.iterdir() if p.is_file())
            during = [
                f"{name} in {p.name}"
                for p in files
                for name, needle in needles.items()
                if needle in p.read_bytes()
            ]
            await close_held(bot, helper, "informed")
            decrypted = await _decrypted_states(bot)
            inside = [name for name, needle in needles.items() if needle in decrypted]
        after = [
            f"{name} in {p.name}"
            for p in sorted(p for p in data_dir.iterdir() if p.is_file())
            for name, needle in needles.items()
            if needle in p.read_bytes()
        ]
    assert during == []
    assert after == []
    assert inside == []
    assert [n for n, needle in needles.items() if needle.decode("latin-1") in logs.text] == []
