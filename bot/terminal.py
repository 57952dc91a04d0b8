"""``python -m bot try``: walk the real flows in a terminal.

Same registry, engine, screens and encrypted storage as the bot; buttons
become numbers. Meant for coordinators and newcomers who want to see what a
member sees without Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from bot import texts
from bot.bidi import FSI, PDI
from bot.callbacks import (
    Action,
    BackButton,
    ChooseButton,
    LanguagePicker,
    MenuButton,
    PickLanguage,
    WipeAsk,
    WipeCancel,
    WipeConfirm,
)
from bot.content import Snapshot
from bot.members import MemberState, utc_now
from bot.screens import Screen, language_screen, screen_for_events, wipe_screen
from bot.services import Services, open_services
from bot.settings import Settings
from flows import engine

TERMINAL_MEMBER = 0
"""The pseudonymous member the terminal walks as (no Telegram account has id 0)."""


def draw(screen: Screen, out: TextIO) -> None:
    # Terminals do not all honour isolates; drop them so nothing shows as boxes.
    text = screen.text.replace(FSI, "").replace(PDI, "")
    out.write("\n" + text + "\n\n")
    for number, button in enumerate(screen.buttons, start=1):
        out.write(f"  {number}. {button.label.replace(FSI, '').replace(PDI, '')}\n")
    out.write("\n")


class Walk:
    def __init__(self, services: Services, locale: str | None) -> None:
        self.services = services
        self.key = services.members.key_for(TERMINAL_MEMBER)
        self.locale = locale

    @property
    def snapshot(self) -> Snapshot:
        return self.services.content.current

    async def begin(self) -> tuple[MemberState, Screen]:
        state = await self.services.members.load(self.key) or MemberState()
        if self.locale is not None:
            state = replace(state, locale=self.locale)
        if state.locale is None:
            tr = self.snapshot.translators["en"]
            lead = tr.finish(texts.safety_notice(tr))
            return state, language_screen(self.snapshot.translators, "en", lead=lead)
        return await self.advance(state, engine.Refresh())

    async def advance(self, state: MemberState, event: engine.Input) -> tuple[MemberState, Screen]:
        registry = self.snapshot.registry
        step = engine.step(registry, state.session, event)
        state = replace(state, session=step.session)
        await self.services.members.save(self.key, state)
        tr = self.snapshot.translators[state.locale or "en"]
        return state, screen_for_events(step.events, registry, tr, step.session)

    async def press(self, state: MemberState, action: Action) -> tuple[MemberState, Screen]:
        tr = self.snapshot.translators[state.locale or "en"]
        if isinstance(action, PickLanguage):
            return await self.advance(replace(state, locale=action.locale), engine.Refresh())
        if isinstance(action, LanguagePicker):
            return state, language_screen(self.snapshot.translators, state.locale or "en")
        if isinstance(action, WipeAsk):
            return state, wipe_screen(tr)
        if isinstance(action, WipeConfirm):
            await self.services.members.erase(self.key)
            return MemberState(), Screen(tr.finish(texts.wipe_done(tr)))
        if isinstance(action, ChooseButton):
            return await self.advance(state, engine.Choose(action.token, action.index))
        if isinstance(action, BackButton):
            return await self.advance(state, engine.Back(action.token))
        assert isinstance(action, MenuButton | WipeCancel)
        return await self.advance(state, engine.Restart())


async def walk(
    settings: Settings, locale: str | None, read: Callable[[], str], out: TextIO
) -> None:
    services = await open_services(settings, utc_now)
    try:
        session = Walk(services, locale)
        state, screen = await session.begin()
        guide = services.content.current.translators[locale or "en"]
        out.write(texts.terminal_instructions(guide) + "\n")
        while True:
            draw(screen, out)
            try:
                line = read().strip()
            except EOFError:
                break
            if line.lower() in {"q", "quit", "exit"}:
                break
            if line.isdigit() and 1 <= int(line) <= len(screen.buttons):
                action = screen.buttons[int(line) - 1].action
                state, screen = await session.press(state, action)
            elif state.locale is None:
                out.write(texts.terminal_pick_language(guide) + "\n")
            else:
                state, screen = await session.advance(state, engine.Text(line))
    finally:
        await services.close()
