"""The operator's side, as real processes: where the key lives, first runs, admin commands,
backups, start-up failures, health, and ``try``."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.sending import NETWORK_RETRY_DELAYS, Lane
from tests.e2e.harness import RunningBot
from tests.e2e.test_process import REPO, _env, _run_bot, _start, _stop
from tests.fakebot import TEST_TOKEN, ApiCall, FakeBotApi

KEY_A = "1:" + "A" * 43 + "="
KEY_B = "1:" + "B" * 43 + "="


def _config_key(tmp_path: Path) -> Path:
    return tmp_path / "config" / "yardem" / "root.key"


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# The key's place (item 6) ---------------------------------------------------------


def test_init_puts_a_new_key_in_the_config_folder_not_beside_the_data(tmp_path: Path) -> None:
    result = _run_bot(["init"], tmp_path, _env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "created a new database" in result.stdout
    assert _config_key(tmp_path).stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["yardem.sqlite3"]
    again = _run_bot(["init"], tmp_path, _env(tmp_path))
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout


def test_a_key_file_inside_data_dir_is_refused_unless_allowed(tmp_path: Path) -> None:
    inside = str(tmp_path / "data" / "keys" / "root.key")
    refused = _run_bot(["init"], tmp_path, _env(tmp_path, ROOT_KEY_FILE=inside))
    assert refused.returncode == 2
    line = _one_line(refused)
    assert "lies inside DATA_DIR" in line
    assert "ALLOW_KEY_BESIDE_DATA=1" in line
    assert not (tmp_path / "data" / "yardem.sqlite3").exists()
    allowed = _run_bot(
        ["init"], tmp_path, _env(tmp_path, ROOT_KEY_FILE=inside, ALLOW_KEY_BESIDE_DATA="1")
    )
    assert allowed.returncode == 0, allowed.stderr


def test_an_old_install_with_the_key_beside_the_data_moves_it_with_one_command(
    tmp_path: Path,
) -> None:
    legacy = tmp_path / "data" / "root.key"
    old = _env(tmp_path, ROOT_KEY_FILE=str(legacy), ALLOW_KEY_BESIDE_DATA="1")
    assert _run_bot(["init"], tmp_path, old).returncode == 0
    added = _run_bot(["admin", "add-coordinator", "5550001234"], tmp_path, old)
    assert added.returncode == 0, added.stderr
    label = added.stdout.split()[1]

    # The new release, with the old files and no special settings: refused, with the way out.
    env = _env(tmp_path)
    refused = _run_bot(["admin", "list"], tmp_path, env)
    assert refused.returncode == 2
    assert "python -m bot admin move-key" in _one_line(refused)

    moved = _run_bot(["admin", "move-key"], tmp_path, env)
    assert moved.returncode == 0, moved.stderr
    assert str(_config_key(tmp_path)) in moved.stdout
    assert not legacy.exists()
    assert _config_key(tmp_path).stat().st_mode & 0o777 == 0o600
    listed = _run_bot(["admin", "list"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[0] == label, "the moved key still opens the data"


def test_move_key_refuses_a_destination_inside_data_dir_and_keeps_the_key(tmp_path: Path) -> None:
    legacy = tmp_path / "data" / "root.key"
    old = _env(tmp_path, ROOT_KEY_FILE=str(legacy), ALLOW_KEY_BESIDE_DATA="1")
    assert _run_bot(["init"], tmp_path, old).returncode == 0
    refused = _run_bot(
        ["admin", "move-key", str(tmp_path / "data" / "elsewhere.key")], tmp_path, _env(tmp_path)
    )
    assert refused.returncode == 1
    assert "inside DATA_DIR" in _one_line(refused)
    assert legacy.exists()


def test_a_world_readable_env_file_holding_the_root_key_is_refused(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"ROOT_KEY={KEY_A}\n")
    env_file.chmod(0o644)
    refused = _run_bot(["init"], tmp_path, _env(tmp_path))
    assert refused.returncode == 2
    assert "chmod 600" in _one_line(refused)
    assert KEY_A not in refused.stderr
    env_file.chmod(0o600)
    assert _run_bot(["init"], tmp_path, _env(tmp_path)).returncode == 0


# First runs only (item 12) ---------------------------------------------------------


ADMIN_COMMANDS = [
    ["admin", "list"],
    ["admin", "verify-audit"],
    ["admin", "suspend", "abcdef12"],
    ["admin", "add-coordinator", "5550001234"],
    ["admin", "backup", "copy.sqlite3"],
    ["admin", "move-key", "elsewhere.key"],
]


@pytest.mark.parametrize("empty_file", [False, True], ids=["no-file", "zero-bytes"])
def test_admin_commands_never_create_a_database(tmp_path: Path, empty_file: bool) -> None:
    env = _env(tmp_path)
    if empty_file:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "yardem.sqlite3").touch()
    for command in ADMIN_COMMANDS:
        result = _run_bot(command, tmp_path, env)
        assert result.returncode != 0, command
        line = _one_line(result)
        assert "DATA_DIR" in line, (command, line)
        assert "no database" in line, (command, line)
    database = tmp_path / "data" / "yardem.sqlite3"
    assert not database.exists() or database.stat().st_size == 0
    assert not _config_key(tmp_path).exists(), "no key was made either"
    assert not (tmp_path / "copy.sqlite3").exists()


def test_a_key_without_a_database_is_refused_as_a_missing_volume(tmp_path: Path) -> None:
    env = _env(tmp_path, BOT_TOKEN=TEST_TOKEN, ROOT_KEY=KEY_A)
    refused = _run_bot([], tmp_path, env)
    assert refused.returncode == 2
    line = _one_line(refused)
    assert "may not be mounted" in line
    assert "python -m bot init" in line
    assert not (tmp_path / "data" / "yardem.sqlite3").exists()
    assert _run_bot(["init"], tmp_path, env).returncode == 0
    assert (tmp_path / "data" / "yardem.sqlite3").stat().st_size > 0


def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    for command in (["init"], ["admin", "list"], []):
        result = _run_bot(command, tmp_path, _env(tmp_path, BOT_TOKEN=TEST_TOKEN))
        assert result.returncode == 2, command
        assert "DATA_DIR=" in _one_line(result)


# Admin commands (item 13) ------------------------------------------------------------


def test_add_coordinator_reads_the_id_from_stdin_and_refuses_an_existing_account(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    assert _run_bot(["init"], tmp_path, env).returncode == 0
    empty = _run_bot(["admin", "list"], tmp_path, env)
    assert empty.returncode == 0
    assert empty.stdout.startswith("no volunteers or coordinators yet")

    added = _run_bot(["admin", "add-coordinator", "--id-from-stdin"], tmp_path, env, "5550001234\n")
    assert added.returncode == 0, added.stderr
    label = added.stdout.split()[1]
    assert "5550001234" not in added.stdout + added.stderr

    again = _run_bot(["admin", "add-coordinator", "--id-from-stdin"], tmp_path, env, "5550001234\n")
    assert again.returncode == 1
    line = _one_line(again)
    assert f"reinstate {label}" in line
    assert "5550001234" not in line

    # Labels are case-insensitive.
    assert _run_bot(["admin", "suspend", label.upper()], tmp_path, env).returncode == 0
    suspended = _run_bot(["admin", "add-coordinator", "5550001234"], tmp_path, env)
    assert suspended.returncode == 1
    assert "suspended" in _one_line(suspended)
    assert "reinstate" in suspended.stderr
    listed = _run_bot(["admin", "list"], tmp_path, env).stdout.split()
    assert listed[:3] == [label, "coordinator", "suspended"], "the refusal changed nothing"

    reinstated = _run_bot(["admin", "reinstate", f" {label.upper()} "], tmp_path, env)
    assert reinstated.returncode == 0, reinstated.stderr
    assert "active again" in reinstated.stdout
    assert "queue" not in reinstated.stdout


def test_add_coordinator_refuses_bad_stdin_and_both_forms(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _run_bot(["init"], tmp_path, env).returncode == 0
    bad = _run_bot(["admin", "add-coordinator", "--id-from-stdin"], tmp_path, env, "@someone\n")
    assert bad.returncode == 2
    assert "positive whole number" in _one_line(bad)
    both = _run_bot(["admin", "add-coordinator", "123", "--id-from-stdin"], tmp_path, env, "123\n")
    assert both.returncode == 2
    assert "not both" in _one_line(both)
    assert _run_bot(["admin", "list"], tmp_path, env).stdout.startswith("no volunteers")


# Backups (item 8) --------------------------------------------------------------------


def _delivered(call: ApiCall) -> bool:
    return call.error is None


def _staff_rows(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT label, role FROM staff").fetchall()
    connection.close()
    return rows


async def test_backup_while_the_bot_runs_then_restore_checks_the_key(
    server: FakeBotApi, tmp_path: Path
) -> None:
    env = _env(tmp_path, BOT_TOKEN=TEST_TOKEN, BOT_API_URL=server.base_url)
    process = _start(env, tmp_path)
    backup_file = tmp_path / "backups" / "yardem-backup.sqlite3"
    backup_file.parent.mkdir()
    try:
        await server.wait_for(
            lambda: bool(server.calls("getUpdates")), timeout=60, what="the bot polling"
        )
        added = await asyncio.to_thread(
            _run_bot, ["admin", "add-coordinator", "5550001234"], tmp_path, env
        )
        assert added.returncode == 0, added.stderr
        # Members keep the bot writing while the backup is taken.
        members = [server.user(8300000 + n, first_name="M", language_code="en") for n in range(5)]
        for member in members:
            member.send_text("/start")
        made = await asyncio.to_thread(
            _run_bot, ["admin", "backup", str(backup_file)], tmp_path, env
        )
        assert made.returncode == 0, made.stderr
        assert "NOT contain the root key" in made.stdout
        running = await asyncio.to_thread(
            _run_bot, ["admin", "restore", str(backup_file), "--replace"], tmp_path, env
        )
        assert running.returncode == 1
        assert "stop it first" in _one_line(running)
        for member in members:
            await server.wait_for_call("sendMessage", chat_id=member.chat_id)
    finally:
        code, stderr = _stop(process)
    assert code == 0, stderr

    assert backup_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in backup_file.parent.iterdir()) == [backup_file.name], "no -wal"
    with sqlite3.connect(backup_file) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    assert [row[1] for row in _staff_rows(backup_file)] == ["coordinator"]
    assert not any(p.suffix == ".key" for p in backup_file.parent.iterdir())

    # A new machine: same key, empty DATA_DIR.
    elsewhere = _env(tmp_path, DATA_DIR=str(tmp_path / "restored"))
    restored = _run_bot(["admin", "restore", str(backup_file)], tmp_path, elsewhere)
    assert restored.returncode == 0, restored.stderr
    listed = _run_bot(["admin", "list"], tmp_path, elsewhere)
    assert listed.stdout.split()[1] == "coordinator", listed.stderr

    # Not over an existing database without --replace; with it, yes.
    existing = _run_bot(["admin", "restore", str(backup_file)], tmp_path, elsewhere)
    assert existing.returncode == 1
    assert "--replace" in _one_line(existing)
    replaced = _run_bot(["admin", "restore", str(backup_file), "--replace"], tmp_path, elsewhere)
    assert replaced.returncode == 0, replaced.stderr
    assert _run_bot(["admin", "verify-audit"], tmp_path, elsewhere).returncode == 0


def test_restore_refuses_a_backup_made_with_another_key(tmp_path: Path) -> None:
    first = _env(tmp_path, ROOT_KEY=KEY_A, DATA_DIR=str(tmp_path / "a"))
    assert _run_bot(["init"], tmp_path, first).returncode == 0
    assert _run_bot(["admin", "add-coordinator", "5550001234"], tmp_path, first).returncode == 0
    backup_file = tmp_path / "a.backup"
    assert _run_bot(["admin", "backup", str(backup_file)], tmp_path, first).returncode == 0
    overwrite = _run_bot(["admin", "backup", str(backup_file)], tmp_path, first)
    assert overwrite.returncode == 1
    assert "already exists" in _one_line(overwrite)

    other = _env(tmp_path, ROOT_KEY=KEY_B, DATA_DIR=str(tmp_path / "b"))
    assert _run_bot(["init"], tmp_path, other).returncode == 0
    refused = _run_bot(["admin", "restore", str(backup_file), "--replace"], tmp_path, other)
    assert refused.returncode == 1
    assert "does not belong to this root key" in _one_line(refused)
    assert _run_bot(["admin", "list"], tmp_path, other).stdout.startswith("no volunteers")

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    garbage = _run_bot(["admin", "restore", str(not_a_backup)], tmp_path, other)
    assert garbage.returncode == 1
    assert "not a Yardem backup" in _one_line(garbage)


# Start-up (item 14) -----------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_bot_api_is_retried_then_named_in_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/bot"
    env = _env(tmp_path, BOT_TOKEN=TEST_TOKEN, BOT_API_URL=url, BOT_API_RETRIES="2")
    result = _run_bot([], tmp_path, env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert sum("retrying in" in line for line in lines) == 2, result.stderr
    assert lines[-1].startswith("yardem: cannot reach the Bot API at BOT_API_URL=" + url)
    assert "after 3 attempt(s)" in lines[-1]
    assert TEST_TOKEN not in result.stderr
    assert not (tmp_path / "data").exists(), "nothing was created before the network answered"


_BARE_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdrfi]|%\([a-z_]+\)")


async def test_library_log_lines_keep_their_values(server: FakeBotApi, tmp_path: Path) -> None:
    """Log lines with values keep them, and no line is left with a bare placeholder.

    Flood control used to be logged by PTB's rate limiter ("Rate limit hit.
    Retrying after %f seconds"); the sending policy (bot/sending.py) replaced
    it and logs it itself. How library lines are rendered is unit-tested in
    tests/unit/test_operator_pure.py::test_library_messages_keep_their_values.
    """
    env = _env(tmp_path, BOT_TOKEN=TEST_TOKEN, BOT_API_URL=server.base_url)
    process = _start(env, tmp_path)
    try:
        await server.wait_for(
            lambda: bool(server.calls("getUpdates")), timeout=60, what="the bot polling"
        )
        # Flood control makes the sending policy log "wait %.1f s".
        server.fail_next("sendMessage", retry_after=1)
        member = server.user(8200009, first_name="Member", language_code="en")
        member.send_text("/start")
        # Refused once, then sent: the limiter logged its retry in between.
        await server.wait_for_call("sendMessage", chat_id=member.chat_id, predicate=_delivered)
    finally:
        code, stderr = _stop(process)
    assert code == 0, stderr
    assert re.search(r"Telegram asked to wait 1\.0 s before sending again", stderr), stderr
    assert not _BARE_PLACEHOLDER.search(stderr), stderr
    assert "8200009" not in stderr


# Health (item 15) -------------------------------------------------------------------


async def test_health_reports_a_running_bot_and_a_stale_one(
    server: FakeBotApi, tmp_path: Path
) -> None:
    env = _env(tmp_path, BOT_TOKEN=TEST_TOKEN, BOT_API_URL=server.base_url)
    no_database = await asyncio.to_thread(_run_bot, ["health"], tmp_path, env)
    assert no_database.returncode == 1
    assert "DATA_DIR" in _one_line(no_database)

    process = _start(env, tmp_path)
    heartbeat = tmp_path / "data" / "heartbeat"
    try:
        try:
            await server.wait_for(heartbeat.exists, timeout=60, what="the heartbeat file")
        except TimeoutError:
            raise AssertionError("no heartbeat:\n" + _stop(process)[1]) from None
        # No secrets: the health check runs without the token or the key.
        bare = {k: v for k, v in env.items() if k not in {"BOT_TOKEN", "XDG_CONFIG_HOME"}}
        healthy = await asyncio.to_thread(_run_bot, ["health"], tmp_path, bare)
        assert healthy.returncode == 0, healthy.stderr
        assert healthy.stdout.startswith("healthy: database readable")
    finally:
        code, stderr = _stop(process)
    assert code == 0, stderr
    assert heartbeat.read_text().strip().isdigit(), "only a time, nothing else"
    assert heartbeat.stat().st_mode & 0o777 == 0o600

    heartbeat.write_text(f"{int(time.time()) - 600}\n")
    stale = _run_bot(["health"], tmp_path, env)
    assert stale.returncode == 1
    assert "last successful Bot API call" in _one_line(stale)


# try (item 17) ---------------------------------------------------------------------


def test_try_prompts_and_draws_the_uyghur_back_arrow_for_a_left_to_right_terminal(
    tmp_path: Path,
) -> None:
    result = _run_bot(["try", "--locale", "ug"], tmp_path, _env(tmp_path), stdin="2\nq\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "] > " in out, "an input prompt is shown"
    assert "◀ قايتىش" in out
    assert "▶ قايتىش" not in out
    assert not (tmp_path / "data").exists()


def test_try_outside_the_virtual_environment_says_how_to_run_it(tmp_path: Path) -> None:
    # -S: no site-packages, as the system Python without Yardem's dependencies.
    env = {k: v for k, v in _env(tmp_path).items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-S", "-m", "bot", "try"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    line = _one_line(result)
    assert "lacks Yardem's dependencies" in line
    assert ".venv/bin/python -m bot try" in line or "python3 -m venv .venv" in line
    assert os.path.basename(sys.executable) in line


async def test_the_minutely_heartbeat_records_only_a_successful_bot_api_call(
    bot: RunningBot,
) -> None:
    data_dir = bot.services.settings.data_dir
    (job,) = bot.application.job_queue.get_jobs_by_name("heartbeat")  # type: ignore[union-attr]
    (data_dir / "heartbeat").write_text("1000\n")
    # The sending policy retries a network failure a few times: fail them all.
    bot.server.inject_error(
        "getMe",
        error_code=502,
        description="Bad Gateway",
        times=len(NETWORK_RETRY_DELAYS[Lane.CONTROL]) + 1,
    )
    await job.run(bot.application)
    assert (data_dir / "heartbeat").read_text() == "1000\n", "a failed call is no heartbeat"
    calls = len(bot.server.calls("getMe"))
    await job.run(bot.application)
    assert len(bot.server.calls("getMe")) == calls + 1
    assert int((data_dir / "heartbeat").read_text()) >= int(time.time()) - 60
