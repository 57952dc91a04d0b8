"""Start-up and SIGHUP reload time of ``python -m bot`` with the shipped flows. Prints figures.

    .venv/bin/python bench/bench_process.py [--runs 5]

The bot runs as an operator runs it, a process of its own, against the fake Bot
API (in this process; the bot is the one measured).

- start-up: from launching ``python -m bot`` until its first getUpdates reaches
  the server; the first run creates the data directory (root key, migrations),
  the others reopen it;
- reload: a copy of the shipped flows gets one comment line appended (so the
  set's version changes and the bot logs the reload), then SIGHUP; from the
  signal until "flows reloaded" is on the bot's log. A member presses a button
  at the moment of the signal: the reload runs on the event loop, so that
  press's answer time shows how long members wait during a reload.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import machine

from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES_DIR
from tests.fakebot import TEST_TOKEN, FakeBotApi, FakeUser

REPO = Path(__file__).resolve().parent.parent


class Bot:
    """``python -m bot`` with its log lines stamped on arrival."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append((time.monotonic(), line.rstrip()))

    def logged_after(self, text: str, since: float) -> float | None:
        return next((at for at, line in list(self.lines) if at >= since and text in line), None)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def first_call_after(server: FakeBotApi, method: str, since: float) -> float:
    def arrived() -> bool:
        return any(call.time >= since for call in server.calls(method))

    await server.wait_for(arrived, timeout=60)
    return min(call.time for call in server.calls(method) if call.time >= since)


async def press_and_time(server: FakeBotApi, member: FakeUser, label: str) -> float:
    """Press ``label`` once it is shown; the time until the next screen reaches the server."""
    shown = await member.wait_for_button(label, timeout=60)
    pressed = time.monotonic()
    member.press(label, message_id=shown.message_id)

    def screens() -> list[float]:
        return [
            call.time
            for call in server.calls()
            if call.method in {"editMessageText", "sendMessage"}
            and call.chat_id == member.chat_id
            and call.time >= pressed
        ]

    await server.wait_for(lambda: bool(screens()), timeout=60)
    return min(screens()) - pressed


async def main(runs: int) -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as server:
        root = Path(tmp)
        flows_dir, locales_dir = root / "flows", root / "locales"
        shutil.copytree(DEFINITIONS_DIR, flows_dir)
        shutil.copytree(LOCALES_DIR, locales_dir)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"WEBHOOK_URL", "WEBHOOK_SECRET", "ROOT_KEY", "BOT_TOKEN"}
        }
        env.update(
            BOT_TOKEN=TEST_TOKEN,
            BOT_API_URL=server.base_url,
            DATA_DIR=str(root / "data"),
            # A key of its own, away from the data and from this user's real one.
            ROOT_KEY_FILE=str(root / "config" / "root.key"),
            FLOWS_DIR=str(flows_dir),
            LOCALES_DIR=str(locales_dir),
            PYTHONUNBUFFERED="1",
        )
        member = server.user(50_000_001, first_name="M", language_code="en")
        starts: list[float] = []
        reloads: list[float] = []
        stalls: list[float] = []
        for run in range(runs):
            bot = Bot(env, root)
            try:
                ready = await first_call_after(server, "getUpdates", bot.started)
                starts.append(ready - bot.started)
                if run == 0:
                    member.send_text("/start")
                    await press_and_time(server, member, "English")
                label = "Red Notices and Diffusions" if run % 2 == 0 else "☰ Menu"
                with (flows_dir / "main.yaml").open("a", encoding="utf-8") as flow:
                    flow.write(f"# benchmark reload {run}\n")
                signalled = time.monotonic()
                bot.process.send_signal(signal.SIGHUP)
                stall = await press_and_time(server, member, label)
                deadline = time.monotonic() + 60
                while (logged := bot.logged_after("flows reloaded", signalled)) is None:
                    if time.monotonic() > deadline:
                        raise TimeoutError("the reload was never logged")
                    await asyncio.sleep(0.01)
                reloads.append(logged - signalled)
                stalls.append(stall)
            finally:
                bot.stop()
        print(
            f"start-up to first getUpdates: first run (new data dir) {starts[0] * 1000:.0f} ms; "
            f"restarts {', '.join(f'{s * 1000:.0f}' for s in starts[1:])} ms"
        )
        print(
            f"SIGHUP to 'flows reloaded' logged: {', '.join(f'{r * 1000:.0f}' for r in reloads)} ms"
        )
        print(
            "a press made at the signal was answered after: "
            f"{', '.join(f'{s * 1000:.0f}' for s in stalls)} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
