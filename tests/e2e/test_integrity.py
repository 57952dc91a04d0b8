"""Someone who can write the database file edits roles and holders while the bot is stopped.

The edit is made with Python's sqlite3 module, as an intruder with the file
would. After a restart the bot refuses it end to end: the volunteer made a
coordinator is no staff at all, the request moved to another volunteer is
held by nobody, the invite turned into a coordinator's admits nobody; the
logs say so without an id; genuine accounts go on working.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from bot import staff_texts
from bot.i18n import LANGUAGE_NAMES
from tests.e2e.harness import FakeClock, capture_logs, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    invite,
    make_coordinator,
    only_referral,
    volunteer,
)
from tests.e2e.steps import say
from tests.e2e.test_process import _env, _run_bot
from tests.fakebot import FakeBotApi, FakeUser


def _texts(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.visible_messages()]


async def test_roles_and_holders_edited_in_the_file_are_refused_after_a_restart(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(server, data_dir)
    coordinator = server.user(8500001, first_name="Coord", language_code="en")
    member = server.user(8500004, first_name="Member", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        await make_coordinator(bot, coordinator)
        alice = await volunteer(bot, coordinator, 8500002, "Alice")
        bob = await volunteer(bot, coordinator, 8500003, "Bob")
        await ask_for_volunteer(bot, member)
        referral = await only_referral(bot, member)
        await claim(bot, alice, referral)
        code = await invite(bot, coordinator, "volunteer")
        labels = {
            user.user_id: bot.services.pseudonymizer.label(
                bot.services.members.key_for(user.user_id)
            )
            for user in (alice, bob)
        }
        bob_key = bot.services.members.key_for(bob.user_id)

    # The intruder, with the file and without the key.
    with sqlite3.connect(data_dir / "yardem.sqlite3") as connection:
        connection.execute(
            "UPDATE staff SET role = 'coordinator', languages = 'en ug zh_Hans zh_Hant' "
            "WHERE label = ?",
            (labels[alice.user_id],),
        )
        connection.execute(
            "UPDATE referrals SET volunteer = ? WHERE id = ?", (bob_key, referral.id)
        )
        connection.execute("UPDATE invites SET role = 'coordinator'")
    connection.close()

    with capture_logs() as logs:
        async with running_bot(server, settings, clock) as bot:
            tr = bot.tr("en")
            # Alice's staff commands are answered as a stranger's message would be.
            await say(bot, alice, "/volunteers", button=LANGUAGE_NAMES["en"])
            await bot.settle()  # nothing follows: no roster
            assert not any(labels[bob.user_id] in text for text in _texts(alice))
            assert await bot.services.staff.get(bot.services.members.key_for(alice.user_id)) is None

            # The request moved to Bob is held by nobody: not his to see or to answer.
            await say(bot, bob, "/mine", text=staff_texts.mine_empty(tr))
            member.send_text("are you there 7781")
            await bot.settle()  # fetched, and nothing reaches a volunteer
            assert "are you there 7781" not in _texts(bob)
            assert "are you there 7781" not in _texts(alice)

            # The coordinator's roster shows Bob, genuine, and not the edited account.
            seen = {m.message_id for m in coordinator.visible_messages()}

            def roster() -> list[str]:
                return [
                    m.text or "" for m in coordinator.visible_messages() if m.message_id not in seen
                ]

            await say(bot, coordinator, "/volunteers", containing=labels[bob.user_id])
            await bot.settle()  # nothing follows: no line for the edited account
            assert not any(labels[alice.user_id] in text for text in roster())

            # The invite edited into a coordinator's admits nobody.
            newcomer = server.user(8500005, first_name="New", language_code="en")
            await say(bot, newcomer, f"/start {code}", button=LANGUAGE_NAMES["en"])
            newcomer_key = bot.services.members.key_for(newcomer.user_id)
            assert await bot.services.staff.get(newcomer_key) is None

    text = logs.text
    assert "row(s) of staff fail their integrity check" in text
    assert "row(s) of referrals fail their integrity check" in text
    assert "row(s) of invites fail their integrity check" in text
    lines = [line for line in text.splitlines() if "integrity check" in line]
    assert lines
    for secret in (*labels.values(), referral.id, str(alice.user_id), bob_key.hex()):
        assert not any(secret in line for line in lines), "logged without ids or labels"


def _admin(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return _run_bot(["admin", *args], tmp_path, _env(tmp_path))


def test_rows_from_before_sealing_are_shown_to_the_operator_then_sealed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _run_bot(["init"], tmp_path, _env(tmp_path)).returncode == 0
    added = _admin(["add-coordinator", "5550009876"], tmp_path)
    assert added.returncode == 0, added.stderr
    label = added.stdout.split()[1]
    # As a database written before rows were sealed would be.
    with sqlite3.connect(data_dir / "yardem.sqlite3") as connection:
        connection.execute("UPDATE staff SET mac = NULL")
    connection.close()
    unchecked = _admin(["list"], tmp_path).stdout
    assert label not in unchecked, "an unchecked row gives no authority"
    assert "1 account(s) not listed" in unchecked
    assert "seal-rows" in unchecked

    shown = _admin(["seal-rows"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"account {label}  coordinator  active" in shown.stdout
    assert "--yes" in shown.stdout
    assert "5550009876" not in shown.stdout
    assert label not in _admin(["list"], tmp_path).stdout, "showing seals nothing"

    sealed = _admin(["seal-rows", "--yes"], tmp_path)
    assert sealed.returncode == 0, sealed.stderr
    assert "sealed 1 row(s)" in sealed.stdout
    listed = _admin(["list"], tmp_path).stdout
    assert listed.split()[:2] == [label, "coordinator"]
    assert "not listed" not in listed
    assert "is sealed" in _admin(["seal-rows"], tmp_path).stdout
