"""``python -m bot try``: walk the real flows in a terminal.

Same registry, conversation rules, engine, screens and encrypted storage as
the bot; buttons become numbers. For coordinators and newcomers who want to
see what a member sees without Telegram. It walks in a temporary directory
with a throwaway key, deleted at the end: never in production data.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot import texts
from bot.bidi import FSI, PDI
from bot.callbacks import PickLanguage, Pressed
from bot.conversation import Conversation, Outcome
from bot.installation import Purpose
from bot.member_handlers import COMMANDS
from bot.members import MemberState, utc_now
from bot.screens import Screen
from bot.services import Services, open_services
from bot.settings import Settings

TERMINAL_MEMBER = 0
"""The member the terminal walks as (no Telegram account has id 0)."""


# Arrows point the way a right-to-left reader goes in Telegram ("▶ قايتىش",
# Back, points right). A terminal lays every line out left to right, so there
# they must point the other way to mean the same.
_MIRRORED = str.maketrans("◀▶←→", "▶◀→←")


def _plain(text: str, right_to_left: bool = False) -> str:
    # Terminals do not all honour isolates; drop them so nothing shows as boxes.
    text = text.replace(FSI, "").replace(PDI, "")
    return text.translate(_MIRRORED) if right_to_left else text


def draw(screen: Screen, out: TextIO, right_to_left: bool = False) -> None:
    out.write("\n" + _plain(screen.text, right_to_left) + "\n\n")
    for number, button in enumerate(screen.buttons, start=1):
        out.write(f"  {number}. {_plain(button.label, right_to_left)}\n")
    out.write("\n")


def prompt(screen: Screen) -> str:
    """The input prompt: the numbers that work here, and q to quit."""
    count = len(screen.buttons)
    choices = "1" if count == 1 else f"1-{count}"
    return f"[{choices}, q] > " if count else "[q] > "


class Walk:
    def __init__(self, services: Services, locale: str | None) -> None:
        self.services = services
        self.key = services.members.key_for(TERMINAL_MEMBER)
        self.locale = locale
        self.state: MemberState | None = None

    def conversation(self) -> Conversation:
        return Conversation(self.services.content.current, self.state, self.locale or "en")

    async def begin(self) -> Screen:
        self.state = await self.services.members.load(self.key)
        if self.locale is not None:
            outcome = self.conversation().press(Pressed(None, PickLanguage(self.locale)))
            return await self.carry_out(outcome)
        return await self.carry_out(self.conversation().command("start"))

    async def carry_out(self, outcome: Outcome) -> Screen:
        if outcome.state is None:
            await self.services.members.erase(self.key)
            self.state = None
            # Nothing stays behind: start over with the safety notice and picker.
            greeting = self.conversation().greet()
            return Screen(
                "\n\n".join([*(s.text for s in outcome.screens), greeting.screens[0].text]),
                greeting.screens[0].rows,
            )
        self.state = outcome.state
        await self.services.members.save(self.key, outcome.state)
        if not outcome.screens:
            return await self.carry_out(self.conversation().command("start"))
        texts_shown = [screen.text for screen in outcome.screens]
        if outcome.referral is not None:
            # Nobody is on the other end of a terminal: say so instead of pretending.
            tr = self.conversation().tr
            texts_shown.insert(0, tr.finish(texts.terminal_request_not_sent(tr)))
        return Screen("\n\n".join(texts_shown), outcome.screens[-1].rows)


async def walk_in_scratch(
    settings: Settings, locale: str | None, read: Callable[[str], str], out: TextIO
) -> None:
    """Walk with a throwaway key in a temporary directory, both gone afterwards."""
    with tempfile.TemporaryDirectory(prefix="yardem-try-") as scratch:
        throwaway = dataclasses.replace(
            settings,
            data_dir=Path(scratch) / "data",
            root_key=base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
            root_key_file=None,
        )
        await walk(throwaway, locale, read, out)


async def walk(
    settings: Settings, locale: str | None, read: Callable[[str], str], out: TextIO
) -> None:
    services = await open_services(settings, utc_now, Purpose.SCRATCH)
    try:
        session = Walk(services, locale)
        screen = await session.begin()
        out.write(texts.terminal_instructions(session.conversation().tr) + "\n")
        while True:
            draw(screen, out, session.conversation().tr.right_to_left)
            try:
                line = read(prompt(screen)).strip()
            except EOFError:
                out.write("\n")
                break
            if line.lower() in {"q", "quit", "exit"}:
                break
            conversation = session.conversation()
            layout = services.content.current.registry.layout
            if line.isdigit() and 1 <= int(line) <= len(screen.buttons):
                action = screen.buttons[int(line) - 1].action
                screen = await session.carry_out(conversation.press(Pressed(layout, action)))
            elif line == "/status":
                screen = await session.carry_out(conversation.status("none"))
            elif line.lstrip("/") in COMMANDS and line.startswith("/"):
                screen = await session.carry_out(conversation.command(line.lstrip("/")))
            elif not conversation.has_language:
                out.write(texts.terminal_pick_language(conversation.tr) + "\n")
            else:
                screen = await session.carry_out(conversation.typed(line, can_delete=False))
    finally:
        await services.close()
