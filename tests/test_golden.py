"""Golden transcripts: whole walks through the shipped flows, pinned per locale.

Each script is a list of steps (a 1-based button number, ``back``, ``menu``,
``text:<typed text>`` or ``forged``) run through ``bot.conversation.Conversation``,
which the Telegram handlers and ``python -m bot try`` both use; the transcript
records every screen the member would see and whether it is drawn anew. Between
two steps the member's state goes through the database as the bot stores it
(JSON, encrypted, in SQLite) and is read back, so every walk also proves that
each state it reaches survives storage unchanged. A change to flows, catalogs
or rendering shows up as a diff in ``tests/golden/*.json``. After an intended
change, regenerate with::

    YARDEM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import Action, BackButton, ChooseButton, MenuButton, Pressed, ResumeButton
from bot.content import Snapshot, load_snapshot
from bot.conversation import Conversation, Outcome
from bot.members import Members, MemberState
from bot.screens import Screen
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES, LOCALES_DIR
from flows.values import TextValues
from storage.sqlite.database import Database
from storage.sqlite.members import SqliteMemberRepository
from tests.unit.storage_samples import CIPHER, PSEUDONYMS

GOLDEN = Path(__file__).parent / "golden"
# One journey per help flow that visits every screen of it (a depth-first walk
# from the menu, coming back with Back), plus the volunteer request and the
# member-safety paths. Menu numbers follow flows/definitions/main.yaml.
SCRIPTS: dict[str, list[str]] = {
    "detained": ["1", "2", "1", "1", "1", "1", "2", *["back"] * 6, "7", "back", "menu"],
    "red_notices": ["2", "1", "1", "1", "1", "1", "2", *["back"] * 6, "menu"],
    "ccf_access": ["3", "1", "1", "1", "1", "1", "2", *["back"] * 6, "menu"],
    "challenge": ["4", "1", "1", "1", "1", "1", "2", *["back"] * 6, "3", "back", "menu"],
    "travel": ["5", "1", "1", "1", "1", *["back"] * 4, "3", "back", "4", "back", "menu"],
    "family": [
        *["6", "1", "1", "1", "1", "back", "4", *["back"] * 4],
        *["3", "2", "1", *["back"] * 3, "6", "back", "menu"],
    ],
    "approached": ["7", "1", "3", "back", "back", "5", "menu"],
    "asylum": [
        *["8", "1", "1", "1", "1", "2", *["back"] * 4, "2", "back", "back"],
        *["3", "1", "back", "back", "menu"],
    ],
    "digital_safety": ["9", "1", "1", "1", "1", "2", *["back"] * 5, "menu"],
    "help": ["10", "1", "1", "1", "2", *["back"] * 4, "menu"],
    "about": ["12", "1", "1", "2", "1", *["back"] * 4, "menu"],
    "volunteer": ["11", "1", "1", "1", "1", "1", "menu", "11", "2"],
    "detained_to_volunteer": ["1", "1", "1", "1", "text:my name is", "1", "menu"],
    "stale_and_typing": ["1", "text:my name is", "forged", "1", "back"],
    "language_and_wipe": ["13", "back", "14", "1"],
}


def _screen_json(screen: Screen) -> dict[str, Any]:
    return {
        "text": screen.text,
        "buttons": [[button.label for button in row] for row in screen.rows],
    }


def _outcome(conversation: Conversation, step: str, screen: Screen) -> Outcome:
    layout = conversation.snapshot.registry.layout
    if step.startswith("text:"):
        return conversation.typed(step[len("text:") :], can_delete=True)
    if step == "forged":
        # Data no screen of today's flows carries, from a message that is not the current screen.
        forged = Pressed(layout, ChooseButton("00000000", 0))
        return conversation.press(forged, on_current_screen=False)
    actions = [button.action for button in screen.buttons]
    action: Action
    if step == "back":
        action = next(a for a in actions if isinstance(a, BackButton | ResumeButton))
    elif step == "menu":
        action = next(a for a in actions if isinstance(a, MenuButton))
    else:
        action = actions[int(step) - 1]
    return conversation.press(Pressed(layout, action))


MEMBER = 1_000_042
"""The walking member's Telegram id; only its pseudonym reaches the database."""
DAY = datetime(2024, 5, 17, tzinfo=UTC)


async def stored(members: Members, state: MemberState | None) -> MemberState | None:
    """``state`` after the bot stores it at the end of a turn and reads it at the next."""
    key = members.key_for(MEMBER)
    if state is None:
        await members.erase(key)  # /wipe
    else:
        await members.save(key, state)
    loaded = await members.load(key)
    # Compared as stored: the answers come back in the stored JSON's (sorted) order.
    assert (loaded and loaded.to_json()) == (state and state.to_json()), (
        "the member's state changed on its way through the database"
    )
    return loaded


async def transcript(
    snapshot: Snapshot, locale: str, steps: list[str], members: Members
) -> list[dict[str, Any]]:
    """Walk as the bot's conversation rules do, from the main menu."""
    state: MemberState | None = await stored(members, MemberState(locale))
    outcome = Conversation(snapshot, state, locale).command("menu")
    screen = outcome.screens[-1]
    record: list[dict[str, Any]] = [
        {"step": "menu", "screens": [_screen_json(s) for s in outcome.screens]}
    ]
    for step in steps:
        state = await stored(members, outcome.state)
        screen = outcome.screens[-1] if outcome.screens else screen
        outcome = _outcome(Conversation(snapshot, state, locale), step, screen)
        entry: dict[str, Any] = {
            "step": step,
            "screens": [_screen_json(s) for s in outcome.screens],
        }
        if not outcome.in_place:
            entry["new_message"] = True
        if outcome.delete_incoming:
            entry["deletes_typed"] = True
        record.append(entry)
    return record


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return load_snapshot(DEFINITIONS_DIR, LOCALES_DIR, TextValues(retention_days=30))


@pytest.fixture
async def members(tmp_path: Path) -> AsyncIterator[Members]:
    """The bot's member store over a real encrypted database."""
    db = await Database.open(tmp_path / "yardem.db")
    yield Members(SqliteMemberRepository(db, CIPHER), PSEUDONYMS, lambda: DAY)
    await db.close()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("script", sorted(SCRIPTS))
async def test_golden_transcript(
    snapshot: Snapshot, members: Members, script: str, locale: str
) -> None:
    path = GOLDEN / f"{script}.{locale}.json"
    actual = await transcript(snapshot, locale, SCRIPTS[script], members)
    if os.environ.get("YARDEM_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(
            f"{path.name} is missing; create it with YARDEM_UPDATE_GOLDEN=1 (see module doc)"
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected, f"{path.name} differs; if intended, regenerate (see module doc)"
