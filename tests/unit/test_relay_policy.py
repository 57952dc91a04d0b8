"""The relay's rules as pure functions, and the settings that bound a volunteer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from telegram import Message, MessageEntity

from bot.application import ALLOWED_UPDATES
from bot.errors import SettingsError
from bot.relay_policy import judge, visible
from bot.settings import load_settings

BASE: dict[str, Any] = {
    "message_id": 1,
    "date": 1_700_000_000,
    "chat": {"id": 5, "type": "private"},
    "from": {"id": 5, "is_bot": False, "first_name": "X"},
}
FILE = {"file_id": "f", "file_unique_id": "u"}


def message(**content: Any) -> Message:
    parsed = Message.de_json({**BASE, **content}, None)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("name", "mime", "refusal"),
    [
        ("scan.pdf", "application/pdf", None),
        ("SCAN.PDF", "application/pdf", None),
        ("photo.jpeg", "image/jpeg", None),
        ("photo.heic", "image/heif", None),
        ("setup.exe", "application/x-msdownload", "file"),
        ("scan.pdf.exe", "application/pdf", "file"),
        ("scan.pdf", "application/x-msdownload", "file"),
        ("papers.zip", "application/zip", "file"),
        ("notes.docx", "application/msword", "file"),
        ("page.html", "text/html", "file"),
        ("", "application/pdf", "file"),
    ],
)
def test_documents_pass_only_as_pdfs_and_images(name: str, mime: str, refusal: str | None) -> None:
    document = {**FILE, "mime_type": mime}
    if name:
        document["file_name"] = name
    verdict = judge(message(document=document))
    assert verdict.refusal == refusal
    assert verdict.allowed == (refusal is None)


def test_an_animation_is_refused_though_it_also_carries_a_document() -> None:
    document = {**FILE, "file_name": "a.mp4", "mime_type": "video/mp4"}
    animation = {**FILE, "width": 1, "height": 1, "duration": 1}
    assert judge(message(animation=animation, document=document)).refusal == "kind"


def test_a_message_with_nothing_known_in_it_is_refused() -> None:
    assert judge(message()).refusal == "kind"
    assert judge(message(text="hello")).kind == "text"


def test_hidden_targets_go_and_formatting_stays() -> None:
    entities = [
        MessageEntity(MessageEntity.TEXT_LINK, 0, 2, url="https://example.org"),
        MessageEntity(MessageEntity.BOLD, 0, 2),
        MessageEntity(MessageEntity.CUSTOM_EMOJI, 3, 2, custom_emoji_id="1"),
        MessageEntity(MessageEntity.URL, 6, 10),
    ]
    assert [e.type for e in visible(entities)] == [MessageEntity.BOLD, MessageEntity.URL]


def test_the_bot_asks_telegram_for_edits_so_it_can_refuse_them() -> None:
    assert "edited_message" in ALLOWED_UPDATES


def test_limit_settings_default_to_3_held_and_5_claims_a_day(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "absent.env")
    assert (settings.max_held_requests, settings.claim_alert_per_day) == (3, 5)
    settings = load_settings(
        {"MAX_HELD_REQUESTS": "7", "CLAIM_ALERT_PER_DAY": " 12 "}, env_file=tmp_path / "x"
    )
    assert (settings.max_held_requests, settings.claim_alert_per_day) == (7, 12)


@pytest.mark.parametrize("name", ["MAX_HELD_REQUESTS", "CLAIM_ALERT_PER_DAY"])
@pytest.mark.parametrize("text", ["0", "-1", "abc", "101", "2.5", "٣"])
def test_limit_settings_refuse_other_values(name: str, text: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({name: text}, env_file=tmp_path / "absent.env")
    message_text = str(error.value)
    assert name in message_text
    assert repr(text) in message_text
    assert "\n" not in message_text


def test_only_talk_here_sets_whom_a_volunteer_writes_to() -> None:
    """Claims, hand-overs and relays may stop a volunteer's messages, never aim them."""
    import ast

    root = Path(__file__).resolve().parents[2] / "bot"
    setters: list[str] = []
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.AsyncFunctionDef | ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "set_current"
                ):
                    setters.append(f"{path.name}:{function.name}")
    assert setters == ["staff_handlers.py:_talk"]
