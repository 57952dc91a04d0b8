"""What a translation must keep, and how wide a text looks."""

from __future__ import annotations

import pytest

from flows.display import display_width
from flows.literals import dropped, literals

ENGLISH = (
    "Send /wipe, or call the RCMP on 1-800-420-5805 or the hotline on 1800 123 400. "
    "See tips.fbi.gov and https://www.fairtrials.org/need-help. In 2021, 4,997 people; "
    "HK$1 million each; Regulation 2024/1351; and/or 24/7."
)


def test_literals_of_an_english_text() -> None:
    found = literals(ENGLISH)
    assert found.commands == {"/wipe"}
    assert found.links == {"tips.fbi.gov", "https://www.fairtrials.org/need-help"}
    assert found.phones == {"1-800-420-5805", "1800 123 400"}
    assert {"2021", "4997", "2024", "1351", "24", "7"} <= found.numbers
    # "1 million" is rewritten, not copied, in Chinese ("100万").
    assert "1" not in literals("HK$1 million each").numbers
    assert "/or" not in found.commands
    assert "/1351" not in found.commands


def test_a_faithful_chinese_translation_keeps_everything() -> None:
    chinese = (
        "发送/wipe，或拨打加拿大皇家骑警1-800-420-5805，或热线1800 123 400。"
        "见tips.fbi.gov和https://www.fairtrials.org/need-help。2021年，4997人；"
        "每人100万港元；第2024/1351号条例；全天24/7。"
    )
    assert dropped(ENGLISH, chinese) == []


@pytest.mark.parametrize(
    ("english", "translation", "lost"),
    [
        ("Send /wipe, or call.", "发送/wype，或拨打电话。", ["/wipe"]),
        (
            "Go to tips.fbi.gov or https://www.fairtrials.org/need-help",
            "访问tips.fbi.gov",
            ["https://www.fairtrials.org/need-help"],
        ),
        ("Call 1-800-420-5805", "拨打1-800-420-580", ["1-800-420-5805", "5805"]),
        ("4,997 in 2021", "2021年4,997人", []),
        ("4,997 in 2021", "2012年4997人", ["2021"]),
        ("4,997 in 2021", "2021年４９９７人", ["4997"]),  # full-width digits differ
    ],
)
def test_dropped_names_what_is_missing(english: str, translation: str, lost: list[str]) -> None:
    assert dropped(english, translation) == lost


def test_a_uyghur_translation_with_isolated_latin_keeps_the_command() -> None:
    english = "Send /wipe before anyone checks your phone."
    uyghur = "تېلېفونىڭىزنى باشقىلار تەكشۈرۈشتىن بۇرۇن \u2068/wipe\u2069 ئەۋەتىڭ."
    assert dropped(english, uyghur) == []


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("Talk to a volunteer", 19),
        ("与志愿者交谈", 12),
        ("第 1 步：请求", 13),
        ("ياردەم", 6),
        ("\u2068ab\u2069", 2),
        ("e\u0301", 1),
    ],
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width
