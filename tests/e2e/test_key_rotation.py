"""Root key rotation (issue 8, item 7) as an operator runs it: ``python -m bot admin rotate-key``
in its own process while the real bot serves members over the fake Bot API, a rotation killed
with SIGKILL and resumed, ``--finish`` with the bot stopped, and the bot afterwards."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from bot.installation import running_lock
from bot.members import MemberState
from storage.crypto import FieldCipher, Pseudonymizer
from storage.keys import load_root_keys
from storage.sqlite.database import Database
from storage.sqlite.members import SqliteMemberRepository
from tests.e2e.content_steps import live_sources, publish_set, screen_text
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.process_steps import env_for, one_line, run_bot, start_silent
from tests.e2e.referral_steps import held, staff_label
from tests.e2e.relay_steps import conversation, team, texts_of
from tests.e2e.steps import choose_language, label, menu_text, say, state_at, tap
from tests.fakebot import TEST_TOKEN, FakeBotApi, FakeUser
from tests.unit.content_edits import edit_flow

OLD_TEXT = "It is recorded in Interpol's files."
NEW_TEXT = "It is also recorded in Interpol's files."


def _key_lines(path: Path) -> list[str]:
    return [line.split(":")[0] for line in path.read_text().splitlines() if line[:1] not in "#"]


def _key_ids_in(database: Path, table: str, column: str) -> set[int]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608 -- literals
        ).fetchall()
    connection.close()
    return {int.from_bytes(bytes(row[0])[1:3], "big") for row in rows}


async def _key_ids_through(bot: RunningBot, table: str, column: str) -> set[int]:
    async with (
        bot.services.database.snapshot() as connection,
        connection.execute(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608 -- literals
        ) as cursor,
    ):
        rows = await cursor.fetchall()
    return {int.from_bytes(bytes(row[0])[1:3], "big") for row in rows}


async def _browse(bot: RunningBot, member: FakeUser) -> None:
    """A member presses into a screen and back to the menu."""
    en = bot.tr("en")
    await tap(
        bot,
        member,
        label(bot, en, "main", "menu", "red_notices"),
        text=screen_text(bot, "en", "red_notices", "intro"),
    )
    await say(bot, member, "/menu", text=menu_text(bot))


async def _relay(bot: RunningBot, member: FakeUser, volunteer: FakeUser, words: str) -> None:
    """A message each way between a member and the volunteer talking with them."""
    member.send_text(f"member {words}")
    await bot.server.wait_for(
        lambda: any(f"member {words}" in (t or "") for t in texts_of(volunteer)), timeout=15
    )
    volunteer.send_text(f"volunteer {words}")
    await bot.server.wait_for(
        lambda: any(f"volunteer {words}" in (t or "") for t in texts_of(member)), timeout=15
    )


async def test_rotation_under_load_then_finish_and_everyone_goes_on(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    env = env_for(tmp_path, ROOT_KEY_FILE=str(settings.key_file))
    members = [server.user(8400000 + n, first_name=f"M{n}", language_code="en") for n in range(4)]
    # The lock the real bot holds while it runs: rotate-key must see a running bot.
    with running_lock(settings):
        async with running_bot(server, settings, clock) as bot:
            coordinator, alice, _ = await team(bot, 8410000)
            talker, referral = await conversation(bot, alice, 8420000)
            await publish_set(
                bot, edit_flow(live_sources(bot), "red_notices.yaml", OLD_TEXT, NEW_TEXT)
            )
            for member in members:
                await choose_language(bot, member, "en")
            labels_before = {staff_label(bot, u) for u in (coordinator, alice)}

            rotating = asyncio.create_task(
                asyncio.to_thread(
                    run_bot, ["admin", "rotate-key", "--batch", "1"], tmp_path, env, timeout=180
                )
            )
            rounds = 0
            while not rotating.done() or rounds < 2:
                rounds += 1
                for member in members:
                    await _browse(bot, member)
                await _relay(bot, talker, alice, f"round {rounds}")
                # Each relay spends one of the sender's allowance (bot.rate_limits.
                # RELAY_RATE: 20 at once, then one per 2 s), which refills on the
                # bot's clock: move it on, or a quick bot that fits more than 20
                # rounds into the rotation is held back as a flood.
                clock.advance(timedelta(seconds=2))
            result = await rotating
            assert result.returncode == 0, result.stderr
            assert "waiting for the running bot to take on root key 2" in result.stdout
            assert "re-encrypted" in result.stdout
            assert bot.services.cipher.active == 2, "the running bot took the new key on"
            # Read through the bot's connection: a second one in this process would
            # drop the bot's file locks when it closes (POSIX locks are per process).
            for table, column in (
                ("members", "state"),
                ("staff", "chat_ref"),
                ("referrals", "chat_ref"),
                ("relay_copies", "copies"),
            ):
                assert await _key_ids_through(bot, table, column) == {2}, table
            await _browse(bot, members[0])
            await _relay(bot, talker, alice, "after re-encryption")
            await tap(
                bot,
                members[1],
                label(bot, bot.tr("en"), "main", "menu", "red_notices"),
                text=screen_text(bot, "en", "red_notices", "intro"),
            )
            await state_at(bot, members[1], "red_notices", "intro")

    finished = run_bot(["admin", "rotate-key", "--finish"], tmp_path, env)
    assert finished.returncode == 0, finished.stderr
    assert "rotation finished: root key 2 alone remains" in finished.stdout
    assert _key_lines(settings.key_file) == ["pepper", "2"]
    assert settings.key_file.stat().st_mode & 0o777 == 0o600

    async with running_bot(server, settings, clock) as bot:
        # The member is where they were, and goes on from there.
        await state_at(bot, members[1], "red_notices", "intro")
        en = bot.tr("en")
        await tap(
            bot,
            members[1],
            label(bot, en, "red_notices", "intro", "diffusions"),
            text=screen_text(bot, "en", "red_notices", "diffusions"),
        )
        assert bot.snapshot.number == 1, "the published version is still served"
        assert NEW_TEXT in (members[1].last_message().text or "")
        # Staff are still staff, under new labels; the request is still held; the relay goes on.
        labels_after = {staff_label(bot, u) for u in (coordinator, alice)}
        assert labels_after.isdisjoint(labels_before)
        await held(bot, alice)
        assert [
            r.id
            for r in await bot.services.referrals.held_by(
                bot.services.members.key_for(alice.user_id)
            )
        ] == [referral.id]
        await _relay(bot, talker, alice, "after the switch")
        roster = await say(
            bot,
            coordinator,
            "/volunteers",
            predicate=lambda m: staff_label(bot, alice) in (m.text or ""),
        )
        assert roster.text
        assert (await bot.services.audit.verify()).intact
    audit = run_bot(["admin", "verify-audit"], tmp_path, env)
    assert audit.returncode == 0, audit.stderr
    assert "audit log intact" in audit.stdout


async def _members_under(settings_key: Path, database: Path, count: int, day: date) -> list[int]:
    """``count`` members stored straight into the database, each with a language."""
    keys = load_root_keys(path=settings_key, env_value=None)
    names = Pseudonymizer(keys)
    ids = [8500000 + n for n in range(count)]
    async with await Database.open(database) as db:
        repository = SqliteMemberRepository(db, FieldCipher(keys))
        for n, user_id in enumerate(ids):
            locale = "zh_Hans" if n % 2 else "ug"
            state = MemberState(locale=locale).to_json()
            await repository.save(names.member_key(user_id), state, today=day)
    return ids


async def test_a_rotation_killed_mid_way_resumes_and_loses_nothing(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    env = env_for(tmp_path, ROOT_KEY_FILE=str(settings.key_file))
    database = settings.database_file
    assert run_bot(["init"], tmp_path, env).returncode == 0
    ids = await _members_under(settings.key_file, database, 2500, clock.now.date())

    # Nobody reads its output: once the pipe is full (about 1,400 progress lines) the
    # rotation blocks mid-way, whatever the machine's speed, and is killed there.
    process = start_silent(["admin", "rotate-key", "--batch", "1"], tmp_path, env)
    try:

        def under_new_key() -> int:
            with sqlite3.connect(database) as connection:
                rows = connection.execute("SELECT state FROM members").fetchall()
            connection.close()
            return sum(1 for (blob,) in rows if bytes(blob)[1:3] == b"\x00\x02")

        await server.wait_for(lambda: under_new_key() >= 300, timeout=120)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert _key_ids_in(database, "members", "state") == {1, 2}, "killed mid-way"
    assert _key_lines(settings.key_file) == ["1", "2"]
    assert settings.key_file.stat().st_mode & 0o777 == 0o600

    resumed = run_bot(["admin", "rotate-key", "--batch", "500"], tmp_path, env, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    done = int(resumed.stdout.split("re-encrypted ")[-1].split()[0])
    assert 0 < done < 2500, "the rows already under the new key were skipped"
    assert _key_ids_in(database, "members", "state") == {2}
    finished = run_bot(["admin", "rotate-key", "--finish"], tmp_path, env, timeout=180)
    assert finished.returncode == 0, finished.stderr
    assert "Re-keyed 2500 member(s)" in finished.stdout
    assert _key_lines(settings.key_file) == ["pepper", "2"]

    async with running_bot(server, settings, clock) as bot:
        for n, user_id in enumerate(ids):
            state = await bot.services.members.load(bot.services.members.key_for(user_id))
            assert state is not None
            assert state.locale == ("zh_Hans" if n % 2 else "ug")
        member = server.user(ids[1], first_name="M", language_code="en")
        await say(bot, member, "/menu", text=menu_text(bot, "zh_Hans"))


async def test_finish_clears_fields_that_open_with_no_key_only_when_told(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    env = env_for(tmp_path, ROOT_KEY_FILE=str(settings.key_file))
    database = settings.database_file
    assert run_bot(["init"], tmp_path, env).returncode == 0
    ids = await _members_under(settings.key_file, database, 3, clock.now.date())
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE members SET state = CAST(state || X'00' AS BLOB) WHERE rowid = 1"
        )
    connection.close()
    rotated = run_bot(["admin", "rotate-key"], tmp_path, env)
    assert rotated.returncode == 0, rotated.stderr
    assert "1 field(s) open with no key" in rotated.stdout
    refused = run_bot(["admin", "rotate-key", "--finish"], tmp_path, env)
    assert refused.returncode == 1
    assert "--drop-unreadable" in one_line(refused)
    assert _key_lines(settings.key_file) == ["1", "2"], "the old key stays while a field needs it"
    cleared = run_bot(["admin", "rotate-key", "--finish", "--drop-unreadable"], tmp_path, env)
    assert cleared.returncode == 0, cleared.stderr
    assert "cleared 1 field(s)" in cleared.stdout
    assert _key_lines(settings.key_file) == ["pepper", "2"]
    async with running_bot(server, settings, clock) as bot:
        states = [await bot.services.members.load(bot.services.members.key_for(i)) for i in ids]
        locales = sorted(str(state.locale) for state in states if state is not None)
        assert len(locales) == 3
        assert locales.count("None") == 1, "only the unreadable one was reset"


async def test_rotate_key_refuses_bad_input_in_one_line(server: FakeBotApi, tmp_path: Path) -> None:
    env = env_for(tmp_path)
    nothing = run_bot(["admin", "rotate-key"], tmp_path, env)
    assert nothing.returncode != 0
    line = one_line(nothing)
    assert "no database" in line
    assert "DATA_DIR" in line

    assert run_bot(["init"], tmp_path, env).returncode == 0
    no_rotation = run_bot(["admin", "rotate-key", "--finish"], tmp_path, env)
    assert no_rotation.returncode == 1
    assert "no key rotation is under way" in one_line(no_rotation)

    wrong = run_bot(
        ["admin", "rotate-key"], tmp_path, env_for(tmp_path, ROOT_KEY="1:" + "B" * 43 + "=")
    )
    assert wrong.returncode == 1
    assert "does not belong to this database" in one_line(wrong)

    other = tmp_path / "other"
    other_env = env_for(other, ROOT_KEY="1:" + "A" * 43 + "=")
    other.mkdir()
    assert run_bot(["init"], other, other_env).returncode == 0
    no_out = run_bot(["admin", "rotate-key"], other, other_env)
    assert no_out.returncode == 1
    assert "--key-out" in one_line(no_out)
    taken = other / "taken.key"
    taken.write_text("x")
    exists = run_bot(["admin", "rotate-key", "--key-out", str(taken)], other, other_env)
    assert exists.returncode == 1
    assert "already exists" in one_line(exists)
    assert taken.read_text() == "x"

    settings = settings_for(server, tmp_path / "data")
    started = run_bot(["admin", "rotate-key"], tmp_path, env)
    assert started.returncode == 0, started.stderr
    with running_lock(settings):
        running = run_bot(["admin", "rotate-key", "--finish"], tmp_path, env)
    assert running.returncode == 1
    assert "stop it first" in one_line(running)
    assert _key_lines(tmp_path / "config" / "yardem" / "root.key") == ["1", "2"], "unchanged"


async def test_rotation_with_root_key_writes_the_new_keys_to_a_file(
    server: FakeBotApi, tmp_path: Path
) -> None:
    env = env_for(tmp_path, ROOT_KEY="1:" + "A" * 43 + "=")
    assert run_bot(["init"], tmp_path, env).returncode == 0
    added = run_bot(["admin", "add-coordinator", "5550001234"], tmp_path, env)
    assert added.returncode == 0, added.stderr
    old_label = added.stdout.split()[1]

    first = tmp_path / "keys-2.txt"
    wrote = run_bot(["admin", "rotate-key", "--key-out", str(first)], tmp_path, env)
    assert wrote.returncode == 0, wrote.stderr
    assert "Put that file's contents in ROOT_KEY" in wrote.stdout
    assert first.stat().st_mode & 0o777 == 0o600
    assert _key_lines(first) == ["1", "2"]
    # Until ROOT_KEY holds the new key nothing is written under it; the bot may still run.
    listed = run_bot(["admin", "list"], tmp_path, env)
    assert listed.stdout.split()[0] == old_label

    with_both = env_for(tmp_path, ROOT_KEY=first.read_text())
    again = run_bot(["admin", "rotate-key"], tmp_path, with_both)
    assert again.returncode == 0, again.stderr
    assert "re-encrypted 1 field(s) under root key 2" in again.stdout
    refused = run_bot(["admin", "list"], tmp_path, env)
    assert refused.returncode == 1
    assert "root key 2" in one_line(refused)
    # Nor does the bot start with the old value: it could not read what was re-encrypted.
    bot_env = {**env, "BOT_TOKEN": TEST_TOKEN, "BOT_API_URL": server.base_url}
    stale_bot = await asyncio.to_thread(run_bot, [], tmp_path, bot_env)
    assert stale_bot.returncode != 0
    assert "re-encrypted under root key 2" in stale_bot.stderr

    second = tmp_path / "keys-3.txt"
    out = run_bot(
        ["admin", "rotate-key", "--finish", "--key-out", str(second)], tmp_path, with_both
    )
    assert out.returncode == 0, out.stderr
    assert _key_lines(second) == ["pepper", "2"]
    only_new = env_for(tmp_path, ROOT_KEY=second.read_text())
    half = run_bot(["admin", "list"], tmp_path, only_new)
    assert half.returncode == 1
    assert "rotate-key --finish" in one_line(half)
    done = run_bot(["admin", "rotate-key", "--finish"], tmp_path, only_new)
    assert done.returncode == 0, done.stderr
    listed = run_bot(["admin", "list"], tmp_path, only_new)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[1] == "coordinator"
    assert listed.stdout.split()[0] != old_label
    assert run_bot(["admin", "verify-audit"], tmp_path, only_new).returncode == 0
    stale = run_bot(["admin", "list"], tmp_path, with_both)
    assert stale.returncode == 1
    assert "does not belong" in one_line(stale)
