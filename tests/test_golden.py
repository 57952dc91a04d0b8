"""Golden transcripts: whole walks through the shipped flows, pinned per locale.

Each script is a list of steps (a 1-based button number, ``back``, ``menu``,
``text:<typed text>`` or ``forged``); the transcript records every screen the
member would see. A change to flows, catalogs or rendering shows up as a diff
in ``tests/golden/*.json``. After an intended change, regenerate with::

    YARDEM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import BackButton, ChooseButton, MenuButton
from bot.content import Snapshot, load_snapshot
from bot.screens import Screen, screen_for_events
from flows import engine
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES, LOCALES_DIR

GOLDEN = Path(__file__).parent / "golden"
SCRIPTS: dict[str, list[str]] = {
    "red_notices": ["1", "1", "back", "2", "1", "1", "2", "1", "menu"],
    "about": ["2", "1", "1", "1", "back", "menu"],
    "stale_and_typing": ["1", "text:my name is", "forged", "1", "back"],
}


def _screen_json(screen: Screen) -> dict[str, Any]:
    return {
        "text": screen.text,
        "buttons": [[button.label for button in row] for row in screen.rows],
    }


def _input(step: str, screen: Screen) -> engine.Input:
    if step == "menu":
        return engine.Restart()
    if step == "forged":
        return engine.Choose("00000000", 0)
    if step.startswith("text:"):
        return engine.Text(step[len("text:") :])
    actions = [button.action for button in screen.buttons]
    if step == "back":
        back = next(action for action in actions if isinstance(action, BackButton))
        return engine.Back(back.token)
    action = actions[int(step) - 1]
    if isinstance(action, MenuButton):
        return engine.Restart()
    assert isinstance(action, ChooseButton), f"step {step} is not a flow button"
    return engine.Choose(action.token, action.index)


def transcript(snapshot: Snapshot, locale: str, steps: list[str]) -> list[dict[str, Any]]:
    tr = snapshot.translators[locale]
    registry = snapshot.registry
    first = engine.step(registry, None, engine.Restart())
    session = first.session
    screen = screen_for_events(first.events, registry, tr, session)
    record: list[dict[str, Any]] = [{"step": "start", "screen": _screen_json(screen)}]
    for step in steps:
        result = engine.step(registry, session, _input(step, screen))
        session = result.session
        screen = screen_for_events(result.events, registry, tr, session)
        record.append({"step": step, "screen": _screen_json(screen)})
    return record


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return load_snapshot(DEFINITIONS_DIR, LOCALES_DIR)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_golden_transcript(snapshot: Snapshot, script: str, locale: str) -> None:
    path = GOLDEN / f"{script}.{locale}.json"
    actual = transcript(snapshot, locale, SCRIPTS[script])
    if os.environ.get("YARDEM_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(
            f"{path.name} is missing; create it with YARDEM_UPDATE_GOLDEN=1 (see module doc)"
        )
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected, f"{path.name} differs; if intended, regenerate (see module doc)"
