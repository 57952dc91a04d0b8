"""Screens for a member's request for a volunteer: the questions, status and cancelling."""

from __future__ import annotations

from collections.abc import Mapping

from bot import referral_texts, texts
from bot.callbacks import Answer, CancelAsk, CancelConfirm, MenuButton, ResumeButton
from bot.i18n import Translator
from bot.referral_choices import FIELDS, PRESET, choices, next_field
from bot.referral_terms import Field, Urgency
from bot.screens import Button, Screen

_TWO_PER_ROW = frozenset({Field.COUNTRY})
"""Country names are short and many: two a row keep the list on one phone screen."""


def question_screen(
    tr: Translator, locale: str, answers: Mapping[str, str], notice: str | None = None
) -> Screen:
    field = next_field(answers)
    if field is None:
        raise ValueError("every question is answered")
    preset = answers.get(PRESET, "")
    asked = [f for f in FIELDS if f not in preset]
    # Only the detained-now handoff presets the urgency: its member is asked where
    # they are, while everyone else is asked where they live.
    held_now = Field.URGENCY in preset and answers.get(Field.URGENCY) == Urgency.DETAINED
    lines = [tr.finish(referral_texts.question(tr, field, held_now=held_now))]
    if len(asked) > 1:
        # "Question 1 of 1" would only be one more line to read under pressure.
        lines.insert(0, tr.finish(referral_texts.step(tr, asked.index(field) + 1, len(asked))))
    if notice:
        lines.insert(0, tr.finish(notice))
    buttons = [
        Button(tr.finish(label), Answer(field, code))
        for code, label in choices(field, tr, locale).items()
    ]
    width = 2 if field in _TWO_PER_ROW else 1
    rows = [tuple(buttons[i : i + width]) for i in range(0, len(buttons), width)]
    rows.append((Button(tr.finish(referral_texts.cancel_label(tr)), MenuButton()),))
    return Screen("\n\n".join(lines), tuple(rows))


def status_screen(tr: Translator, view: str) -> Screen:
    text = {
        "none": referral_texts.status_none,
        "open": referral_texts.status_waiting,
        "urgent": referral_texts.status_urgent,
        "claimed": referral_texts.status_claimed,
    }[view](tr)
    rows: list[tuple[Button, ...]] = []
    if view != "none":
        rows.append((Button(tr.finish(referral_texts.cancel_request_label(tr)), CancelAsk()),))
    rows.append((Button(tr.finish(texts.menu_label(tr)), MenuButton()),))
    return Screen(tr.finish(text), tuple(rows))


def cancel_screen(tr: Translator) -> Screen:
    return Screen(
        tr.finish(referral_texts.cancel_question(tr)),
        (
            (Button(tr.finish(referral_texts.cancel_confirm_label(tr)), CancelConfirm()),),
            (Button(tr.finish(referral_texts.keep_label(tr)), ResumeButton()),),
        ),
    )
