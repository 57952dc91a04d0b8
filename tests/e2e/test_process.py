"""``python -m bot`` as an operator runs it: real process, real signals, real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.harness import QUIET_SECONDS
from tests.fakebot import TEST_TOKEN, FakeBotApi

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "ROOT_KEY", "ROOT_KEY_FILE"}
    }
    # The key's default place is the user's config folder: keep it in the test's folder.
    env.update(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


def _run_bot(
    args: list[str], tmp_path: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m bot <args>`` to completion, from a directory without a .env."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no .env from the developer's checkout
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        raise AssertionError("the bot did not stop on SIGTERM:\n" + stderr) from None
    return process.returncode, stderr


def test_without_a_token_it_says_what_to_set(tmp_path: Path) -> None:
    result = _run_bot([], tmp_path, _env(tmp_path))
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr
    assert "python -m bot try" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = _run_bot(
        [], tmp_path, _env(tmp_path, BOT_TOKEN=TEST_TOKEN, WEBHOOK_URL="https://example.org")
    )
    assert result.returncode == 2
    assert "WEBHOOK_SECRET" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_long_polling_serves_and_stops_cleanly_on_sigterm(
    server: FakeBotApi, tmp_path: Path
) -> None:
    env = _env(tmp_path, BOT_TOKEN=TEST_TOKEN, BOT_API_URL=server.base_url)
    process = _start(env, tmp_path)
    try:
        await server.wait_for(
            lambda: bool(server.calls("getUpdates")), timeout=60, what="the bot polling"
        )
        member = server.user(8200001, first_name="Member", language_code="en")
        member.send_text("/start")
        await server.wait_for_call("sendMessage", chat_id=member.chat_id, timeout=60)
    finally:
        code, stderr = _stop(process)
    assert code == 0, stderr
    assert "FIRST RUN: generated a new root key" in stderr
    assert "FIRST RUN: creating a new, empty database" in stderr
    assert "stopped" in stderr
    assert TEST_TOKEN not in stderr
    assert "8200001" not in stderr
    assert (tmp_path / "config" / "yardem" / "root.key").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "data" / "root.key").exists()
    commands = server.calls("setMyCommands")
    assert {call.params.get("language_code") for call in commands} == {None, "zh", "ug"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret(server: FakeBotApi, tmp_path: Path) -> None:
    port = _free_port()
    secret = "s3cret-webhook-token-for-tests"
    env = _env(
        tmp_path,
        BOT_TOKEN=TEST_TOKEN,
        BOT_API_URL=server.base_url,
        WEBHOOK_URL="https://yardem.example.org/hook",
        WEBHOOK_SECRET=secret,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    member = server.user(8200002, first_name="Member", language_code="en")
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": member.chat_id, "type": "private", "first_name": "Member"},
            "from": {"id": member.user_id, "is_bot": False, "first_name": "Member"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    process = _start(env, tmp_path)
    try:
        await server.wait_for_call("setWebhook", timeout=60)
        assert server.webhook["url"] == "https://yardem.example.org/hook/telegram"
        assert server.webhook.get("secret_token") == secret
        url = f"http://127.0.0.1:{port}/telegram"

        async def listening() -> bool:
            # PTB sets the webhook first and opens its port after.
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            await writer.wait_closed()
            return True

        await server.wait_for(listening, timeout=60, what=f"the webhook port {port} open")
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            )
            assert forged.status_code == 403
            await server.wait_idle(min_quiet=QUIET_SECONDS, timeout=30)  # nothing follows
            assert server.calls("sendMessage") == []
            genuine = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
            )
            assert genuine.status_code == 200
        await server.wait_for_call("sendMessage", chat_id=member.chat_id, timeout=60)
    finally:
        code, stderr = _stop(process)
    assert code == 0, stderr
    assert secret not in stderr


def test_try_walks_the_flows_in_a_terminal(tmp_path: Path) -> None:
    result = _run_bot(
        ["try", "--locale", "en"], tmp_path, _env(tmp_path), stdin="2\n1\nhello\n3\nq\n"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2. Red Notices and Diffusions" in out
    assert "A Red Notice is a request" in out
    assert "A Diffusion is a request" in out
    assert "Please choose one of the buttons below." in out
    assert "Back" in out
    # A scratch walk: neither DATA_DIR nor the key's place is touched.
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "config").exists()


def test_try_in_uyghur_shows_uyghur(tmp_path: Path) -> None:
    result = _run_bot(["try", "--locale", "ug"], tmp_path, _env(tmp_path), stdin="2\nq\n")
    assert result.returncode == 0, result.stderr
    assert "قىزىل" in result.stdout


async def test_a_rejected_token_is_one_line_without_the_token(
    server: FakeBotApi, tmp_path: Path
) -> None:
    server.inject_error("getMe", error_code=401, description="Unauthorized", times=10)
    result = await asyncio.to_thread(
        _run_bot, [], tmp_path, _env(tmp_path, BOT_TOKEN=TEST_TOKEN, BOT_API_URL=server.base_url)
    )
    assert result.returncode == 1
    assert TEST_TOKEN not in result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("yardem: cannot start: InvalidToken")


def test_a_missing_key_for_existing_data_is_refused(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = _run_bot(["init"], tmp_path, env)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "config" / "yardem" / "root.key"
    key_file.unlink()
    second = _run_bot(["admin", "list"], tmp_path, env)
    assert second.returncode == 2
    assert "restore the key" in second.stderr
    third = _run_bot([], tmp_path, {**env, "BOT_TOKEN": TEST_TOKEN})
    assert third.returncode == 2
    assert "restore the key" in third.stderr
    assert not key_file.exists(), "no new key was made"


def test_a_different_root_key_for_existing_data_is_refused(tmp_path: Path) -> None:
    first_key = "1:" + "A" * 43 + "="
    other_key = "1:" + "B" * 43 + "="
    first = _run_bot(["init"], tmp_path, _env(tmp_path, ROOT_KEY=first_key))
    assert first.returncode == 0, first.stderr
    second = _run_bot(["admin", "list"], tmp_path, _env(tmp_path, ROOT_KEY=other_key))
    assert second.returncode == 1
    assert "does not belong to this database" in second.stderr
    again = _run_bot(["admin", "list"], tmp_path, _env(tmp_path, ROOT_KEY=first_key))
    assert again.returncode == 0, again.stderr


def test_try_understands_the_commands(tmp_path: Path) -> None:
    result = _run_bot(
        ["try", "--locale", "en"], tmp_path, _env(tmp_path), stdin="1\n/wipe\n1\n/menu\nq\n"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Delete this chat's messages from the last two days" in out
    assert "Done. Yardem deleted the recent messages" in out
    assert out.count("Choose your language:") >= 1, "after a wipe it starts over"


def test_admin_adds_a_coordinator_and_verifies_the_audit_chain(tmp_path: Path) -> None:
    import sqlite3

    user_id = "5550001234"
    assert _run_bot(["init"], tmp_path, _env(tmp_path)).returncode == 0
    added = _run_bot(["admin", "add-coordinator", user_id], tmp_path, _env(tmp_path))
    assert added.returncode == 0, added.stderr
    assert "coordinator" in added.stdout
    database = tmp_path / "data" / "yardem.sqlite3"
    assert user_id.encode() not in database.read_bytes()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT role FROM staff").fetchall() == [("coordinator",)]

    intact = _run_bot(["admin", "verify-audit"], tmp_path, _env(tmp_path))
    assert intact.returncode == 0, intact.stderr
    assert "intact: 1 entries" in intact.stdout

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
    broken = _run_bot(["admin", "verify-audit"], tmp_path, _env(tmp_path))
    assert broken.returncode == 1
    assert "BROKEN at entry 1" in broken.stderr


def test_admin_refuses_a_malformed_user_id(tmp_path: Path) -> None:
    result = _run_bot(["admin", "add-coordinator", "@someone"], tmp_path, _env(tmp_path))
    assert result.returncode == 2
    assert "positive whole number" in result.stderr
    assert not (tmp_path / "data" / "yardem.sqlite3").exists()


def test_admin_lists_suspends_and_removes_accounts_by_label(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert _run_bot(["init"], tmp_path, env).returncode == 0
    added = _run_bot(["admin", "add-coordinator", "5550001234"], tmp_path, env)
    assert added.returncode == 0, added.stderr
    label = added.stdout.split()[1]
    listed = _run_bot(["admin", "list"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[:3] == [label, "coordinator", "active"]
    assert "5550001234" not in listed.stdout

    suspended = _run_bot(["admin", "suspend", label], tmp_path, env)
    assert suspended.returncode == 0, suspended.stderr
    assert _run_bot(["admin", "list"], tmp_path, env).stdout.split()[2] == "suspended"
    assert _run_bot(["admin", "reinstate", label], tmp_path, env).returncode == 0
    assert _run_bot(["admin", "list"], tmp_path, env).stdout.split()[2] == "active"

    removed = _run_bot(["admin", "remove", label], tmp_path, env)
    assert removed.returncode == 0, removed.stderr
    assert _run_bot(["admin", "list"], tmp_path, env).stdout.startswith("no volunteers")
    unknown = _run_bot(["admin", "remove", label], tmp_path, env)
    assert unknown.returncode == 1
    assert "no account has the label" in unknown.stderr
    audit = _run_bot(["admin", "verify-audit"], tmp_path, env)
    assert audit.returncode == 0
    assert "intact: 4 entries" in audit.stdout  # add, suspend, reinstate, remove
