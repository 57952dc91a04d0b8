"""What the bot answers, decided without doing any I/O.

Both front ends, Telegram and ``python -m bot try``, ask this module what a
command, a typed message or a button press means for a member in a given
state, and carry out the :class:`Outcome`: store or erase the state, draw the
screens. Keeping the decision pure keeps the two front ends identical and
lets every rule be tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot import referral_texts, texts
from bot.callbacks import (
    Answer,
    BackButton,
    CancelAsk,
    CancelConfirm,
    ChooseButton,
    LanguagePicker,
    MenuButton,
    PickLanguage,
    Pressed,
    ResumeButton,
    WipeAsk,
    WipeConfirm,
)
from bot.content import Snapshot
from bot.i18n import Translator
from bot.members import MemberState
from bot.referral_choices import PRESET, ReferralRequest, next_field, valid
from bot.referral_screens import cancel_screen, question_screen, status_screen
from bot.referral_terms import Field
from bot.screens import (
    Screen,
    language_screen,
    node_screen,
    screen_for_events,
    wipe_screen,
    with_notice,
)
from flows import engine
from flows.model import MEMBER_LANGUAGE, HandoffNode, QuestionNode
from flows.registry import SOURCE_LOCALE


@dataclass(frozen=True)
class Outcome:
    state: MemberState | None
    """What to store; None means erase everything about the member."""
    screens: tuple[Screen, ...]
    in_place: bool = True
    """Whether the first screen may be drawn over the message that was pressed."""
    delete_incoming: bool = False
    """The member's own message should go: it was not an answer and may hold
    personal details."""
    referral: ReferralRequest | None = None
    """A request for a volunteer to file before drawing the screens."""
    cancel: bool = False
    """The member's open request for a volunteer is to be withdrawn."""


@dataclass(frozen=True)
class Conversation:
    snapshot: Snapshot
    state: MemberState | None
    suggested: str
    """The locale Telegram's client language suggests, for members without one."""

    @property
    def locale(self) -> str:
        chosen = self.state.locale if self.state is not None else None
        if chosen is not None and chosen in self.snapshot.member_locales:
            return chosen
        return self.suggested if self.suggested in self.snapshot.member_locales else SOURCE_LOCALE

    @property
    def tr(self) -> Translator:
        return self.snapshot.translators[self.locale]

    @property
    def has_language(self) -> bool:
        """The member picked a language members may still pick.

        One a coordinator switched off since counts as none: the member is asked
        again (with the picker), never served a language that is off.
        """
        chosen = self.state.locale if self.state is not None else None
        return chosen is not None and chosen in self.snapshot.member_locales

    def _state(self) -> MemberState:
        return self.state or MemberState()

    # Building blocks -----------------------------------------------------

    def greet(self, *, in_place: bool = False, delete_incoming: bool = False) -> Outcome:
        """First contact: the safety notice and the language picker."""
        tr = self.tr
        screen = language_screen(
            self.snapshot.translators,
            self.locale,
            self.snapshot.member_locales,
            lead=tr.finish(texts.safety_notice(tr)),
        )
        return Outcome(self._state(), (screen,), in_place, delete_incoming)

    def advance(
        self,
        event: engine.Input,
        *,
        notice: str | None = None,
        in_place: bool = True,
        delete_incoming: bool = False,
    ) -> Outcome:
        state = self._state()
        registry = self.snapshot.registry
        step = engine.step(registry, state.session, event)
        consent = next((e for e in step.events if isinstance(e, engine.ConsentGiven)), None)
        if consent is not None:
            # Consent given: the questions come before the handoff's next screen.
            asking = replace(state, session=step.session, draft=self._presets(consent))
            return self.ask(asking, notice=notice, in_place=in_place)
        screen = screen_for_events(step.events, registry, self.tr, step.session)
        if notice:
            screen = with_notice(self.tr.finish(notice), screen)
        # A stale press may sit far up the chat; answer where the member looks.
        stale = any(isinstance(e, engine.Stale) for e in step.events)
        return Outcome(
            replace(state, session=step.session, draft=None),
            (screen,),
            in_place and not stale,
            delete_incoming,
        )

    def _presets(self, consent: engine.ConsentGiven) -> tuple[tuple[str, str], ...]:
        """Answers the handoff already implies (someone detained now), if the bot knows them."""
        node = self.snapshot.registry.node(consent.position.flow, consent.position.node)
        if not isinstance(node, HandoffNode):
            return ()
        given = {
            Field.TOPIC: node.presets.get("topic"),
            Field.URGENCY: node.presets.get("urgency"),
            # Someone detained now reads in the language they can best use under
            # stress: the volunteer should speak it, without one more question.
            Field.LANGUAGE: self.locale
            if node.presets.get("language") == MEMBER_LANGUAGE
            else None,
        }
        known = {
            field: value
            for field, value in given.items()
            if value is not None and valid(field, value)
        }
        if not known:
            return ()
        return (*known.items(), (PRESET, "".join(known)))

    def ask(
        self,
        state: MemberState,
        *,
        notice: str | None = None,
        in_place: bool = True,
        delete_incoming: bool = False,
    ) -> Outcome:
        """The next question of a request for a volunteer."""
        screen = question_screen(self.tr, self.locale, state.answers, notice)
        return Outcome(state, (screen,), in_place, delete_incoming)

    def resume(self, *, notice: str | None = None, in_place: bool = True) -> Outcome:
        """Show again where the member is: a pending question, or their screen."""
        state = self._state()
        if state.draft is not None:
            return self.ask(state, notice=notice, in_place=in_place)
        return self.advance(engine.Refresh(), notice=notice, in_place=in_place)

    def refused(self, reason: str) -> Outcome:
        """A request the desk would not file: say why, and show the menu."""
        notice = (
            referral_texts.refused_already_open(self.tr)
            if reason == "already_open"
            else referral_texts.refused_daily_limit(self.tr)
        )
        return self.advance(engine.Restart(), notice=notice)

    def escalated(self, *, claimed: bool) -> Outcome:
        """A request from someone detained now met their open request, now urgent instead.

        The member stays on the screen after the handoff, so Back leads where it
        would after a new request; only the words say what really happened.
        """
        state = self._state()
        screen = node_screen(self.snapshot.registry, self.tr, state.session)
        text = (
            referral_texts.escalated_claimed(self.tr)
            if claimed
            else referral_texts.escalated_waiting(self.tr)
        )
        return Outcome(state, (Screen(self.tr.finish(text), screen.rows),))

    def status(self, view: str) -> Outcome:
        """``view`` is none, open, urgent or claimed: what /status shows."""
        return Outcome(self._state(), (status_screen(self.tr, view),), in_place=False)

    def apologise(self, *, typed: bool) -> Outcome:
        """After a failed turn: the menu, with an apology; typed text goes."""
        return self.advance(
            engine.Restart(),
            notice=texts.something_went_wrong(self.tr),
            in_place=False,
            delete_incoming=typed,
        )

    def wipe_done(self) -> Screen:
        return Screen(self.tr.finish(texts.wipe_done(self.tr)))

    # Entry points ----------------------------------------------------------

    def command(self, name: str) -> Outcome:
        if name == "language":
            return self.language_picker(in_place=False)
        if name == "wipe":
            return Outcome(self._state(), (wipe_screen(self.tr),), in_place=False)
        if not self.has_language:
            return self.greet()
        if name == "start":
            return self.resume(notice=texts.welcome_back(self.tr), in_place=False)
        return self.advance(engine.Restart(), in_place=False)  # /menu and anything else

    def language_picker(self, *, in_place: bool) -> Outcome:
        leave = self.tr if self.has_language else None
        screen = language_screen(
            self.snapshot.translators, self.locale, self.snapshot.member_locales, leave=leave
        )
        return Outcome(self._state(), (screen,), in_place)

    def typed(self, text: str | None, *, can_delete: bool) -> Outcome:
        """A typed message or a photo, voice note, sticker… sent instead of a press.

        Only a free-text question takes typed text. Anything else goes from the
        chat when the front end can delete it, since a frightened member may
        have typed their story or their name.
        """
        if not self.has_language:
            return self.greet(delete_incoming=can_delete)
        if text and not text.startswith("/") and self._asks_for_text():
            outcome = self.advance(engine.Text(text), in_place=False)
            assert outcome.state is not None
            accepted = outcome.state.session.position != self._state().session.position
            return outcome if accepted else replace(outcome, delete_incoming=can_delete)
        notice = texts.typed_text_deleted(self.tr) if can_delete else texts.use_buttons(self.tr)
        return replace(self.resume(notice=notice, in_place=False), delete_incoming=can_delete)

    def _asks_for_text(self) -> bool:
        position = self._state().session.position
        node = self.snapshot.registry.node(position.flow, position.node)
        return isinstance(node, QuestionNode) and node.free_text is not None

    def press(self, pressed: Pressed, *, on_current_screen: bool = True) -> Outcome:
        """A button press; ``on_current_screen`` says it came from the message
        that shows the member's current screen."""
        action = pressed.action
        if isinstance(action, WipeConfirm):
            return Outcome(None, (self.wipe_done(),), in_place=False)
        if isinstance(action, PickLanguage):
            return self._pick_language(action.locale)
        if not self.has_language:
            return self.greet(in_place=True)
        if isinstance(action, WipeAsk):
            return Outcome(self._state(), (wipe_screen(self.tr),))
        if isinstance(action, LanguagePicker):
            return self.language_picker(in_place=True)
        if isinstance(action, MenuButton):
            return self.advance(engine.Restart())
        if isinstance(action, ResumeButton):
            return self.resume()
        if isinstance(action, Answer):
            return self._answer(action, on_current_screen=on_current_screen)
        if isinstance(action, CancelAsk):
            return Outcome(self._state(), (cancel_screen(self.tr),))
        if isinstance(action, CancelConfirm):
            menu = self.advance(engine.Restart(), notice=referral_texts.cancelled(self.tr))
            return replace(menu, cancel=True)
        current = pressed.layout == self.snapshot.registry.layout
        if (
            isinstance(action, ChooseButton | BackButton)
            and current
            and on_current_screen
            and action.token != engine.screen_token(self._state().session.position)
        ):
            # A second tap that was queued before the first redrew this very
            # message: the member already sees the right screen.
            return Outcome(self._state(), ())
        if isinstance(action, ChooseButton) and current:
            return self.advance(engine.Choose(action.token, action.index))
        if isinstance(action, BackButton) and current:
            return self.advance(engine.Back(action.token))
        # Forged, malformed, or drawn for an older layout of the flows.
        return self.advance(engine.Restart(), notice=texts.stale(self.tr), in_place=False)

    def _answer(self, action: Answer, *, on_current_screen: bool) -> Outcome:
        state = self._state()
        if state.draft is None:
            return self.advance(engine.Restart(), notice=texts.stale(self.tr), in_place=False)
        answers = state.answers
        if (
            not on_current_screen
            or next_field(answers) != action.field
            or not valid(action.field, action.value)
        ):
            # An old or forged answer: ask the pending question again.
            return self.ask(state, in_place=False)
        answers[action.field] = action.value
        request = ReferralRequest.from_answers(answers)
        if request is None:
            return self.ask(replace(state, draft=tuple(answers.items())))
        filed = replace(state, draft=None)
        screen = node_screen(self.snapshot.registry, self.tr, filed.session)
        return Outcome(filed, (screen,), referral=request)

    def _pick_language(self, locale: str) -> Outcome:
        if locale not in self.snapshot.member_locales:
            # A picker drawn before a coordinator switched this language off, or a
            # forged button: say so and offer the languages there are.
            picker = self.language_picker(in_place=True)
            unavailable = self.tr.finish(texts.language_unavailable(self.tr))
            return replace(picker, screens=(with_notice(unavailable, picker.screens[0]),))
        first_time = not self.has_language
        chosen = Conversation(self.snapshot, replace(self._state(), locale=locale), self.suggested)
        if not first_time:
            return chosen.resume()
        # Keep the safety notice on screen, now in the member's own language,
        # and put the menu under it.
        tr = chosen.tr
        notice = Screen(tr.finish(texts.safety_notice(tr)))
        menu = chosen.advance(engine.Restart())
        return Outcome(menu.state, (notice, *menu.screens), in_place=True)
