"""Telegram handlers of the text desk: ``/texts``, its buttons, and uploaded files.

Registered ahead of the member and staff handlers; each one first checks that
the sender is an active coordinator (from the Telegram id's pseudonym only,
never from callback data) and otherwise hands the update to the handler that
would have taken it without the desk.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.actors import coordinator_of
from bot.callbacks import PanelPress, decode, encode
from bot.content import files_of
from bot.context import YardemApplication, YardemContext
from bot.desk import drafts, report, texts
from bot.desk.files import download_name, download_zip, pending_catalog
from bot.desk.preview import PREVIEW_VERB, QUIT, Preview
from bot.i18n import LANGUAGE_NAMES, Translator, translators
from bot.publishing import NothingToPublish, Published, PublishRefused, publish, rollback
from flows import engine
from flows.bundle import (
    CATALOG_SUFFIX,
    FLOW_SUFFIXES,
    MAX_FILE_BYTES,
    TEMPLATE_SUFFIX,
    ZIP_SUFFIX,
    UploadError,
    UploadErrorCode,
)
from flows.errors import FlowError
from flows.graph import GraphvizMissing, ImageFormat, registry_graph_dot, render
from flows.pending import PendingReason, pending_texts
from flows.registry import SOURCE_LOCALE, Registry, RegistrySources
from storage.content_records import BrokenVersion, ContentRepository
from storage.errors import ContentIntegrityError, StorageError, UnknownVersion, VersionConflict
from storage.staff import StaffMember

log = logging.getLogger(__name__)

DESK_VERB = "T"
UPLOAD_WAIT_SECONDS = 15 * 60
"""After Upload, the coordinator's next file is for the desk whatever its name, this long."""
HISTORY_SHOWN = 8
ROLLBACK_BUTTONS = 5
MAP_DPI = 60
Fallback = Callable[[Update, YardemContext], Awaitable[None]]
_DESK_FILES = (CATALOG_SUFFIX, TEMPLATE_SUFFIX, ZIP_SUFFIX, *FLOW_SUFFIXES)


def _data(*args: str) -> str:
    return encode(PanelPress(DESK_VERB, args), "")


def _button(label: str, *args: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=_data(*args))


def fingerprint(sources: RegistrySources) -> str:
    """Eight hex digits naming a set, so a confirmation is for exactly what was shown."""
    files = files_of(sources)
    document = [dict(files.flow_files), dict(files.po_files)]
    encoded = json.dumps(document, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:8]


@dataclass
class TextDesk:
    stray: Fallback
    """What a non-coordinator's ``/texts`` gets: the member handlers' stray message."""
    message: Fallback
    """What a file that is not for the desk gets: the relay, or the member handlers."""
    button: Fallback
    """What a desk button from anyone else gets: the staff handlers' "not available"."""
    awaiting: dict[bytes, float] = field(default_factory=dict)
    previews: dict[bytes, Preview] = field(default_factory=dict)
    """In memory only: a preview never touches the members table."""

    # -- who -------------------------------------------------------------

    async def coordinator(self, update: Update, context: YardemContext) -> StaffMember | None:
        return coordinator_of(context)

    @staticmethod
    def tr(context: YardemContext, member: StaffMember) -> Translator:
        found = context.services.content.current.translators
        return found.get(member.locale) or found[SOURCE_LOCALE]

    @staticmethod
    def repository(context: YardemContext) -> ContentRepository:
        repository = context.services.content.versions
        assert repository is not None, "the bot always runs with its database"
        return repository

    async def say(
        self,
        context: YardemContext,
        chat_id: int,
        tr: Translator,
        lines: Sequence[str],
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> Message:
        text = tr.finish("\n".join(lines))
        if len(text) > 4000:
            text = text[:3990] + "…"
        return await context.bot.send_message(
            chat_id,
            text,
            reply_markup=markup,
            protect_content=True,
            reply_parameters=(
                None
                if reply_to is None
                else ReplyParameters(reply_to, allow_sending_without_reply=True)
            ),
        )

    # -- /texts ----------------------------------------------------------

    async def on_texts(self, update: Update, context: YardemContext) -> None:
        member = await self.coordinator(update, context)
        message = update.effective_message
        if member is None or message is None:
            await self.stray(update, context)
            return
        tr = self.tr(context, member)
        lines, has_draft = await self.overview(context, member, tr)
        rows = [
            [_button(tr.finish(texts.download_label(tr)), "d")],
            [_button(tr.finish(texts.upload_label(tr)), "u")],
            [
                _button(tr.finish(texts.preview_label(tr)), "v"),
                _button(tr.finish(texts.publish_label(tr)), "p"),
            ],
            [
                _button(tr.finish(texts.history_label(tr)), "h"),
                _button(tr.finish(texts.map_label(tr)), "m"),
            ],
        ]
        if has_draft:
            rows.append([_button(tr.finish(texts.discard_label(tr)), "x")])
        await self.say(context, message.chat_id, tr, lines, InlineKeyboardMarkup(rows))

    async def overview(
        self, context: YardemContext, member: StaffMember, tr: Translator
    ) -> tuple[list[str], bool]:
        """The overview's lines, and whether the coordinator has a draft."""
        live = context.services.content.current
        lines: list[str] = []
        if live.number == 0:
            lines.append(texts.overview_shipped(tr))
        else:
            listed = await self.repository(context).history(1)
            info = listed[0] if listed else None
            if info is None or isinstance(info, BrokenVersion):
                lines.append(texts.overview(tr, live.number, "?", "?"))
            else:
                lines.append(texts.overview(tr, live.number, info.day.isoformat(), info.publisher))
        lines += completeness(tr, live.registry)
        draft = await self.repository(context).draft(member.key)
        lines.append(texts.has_draft(tr) if draft is not None else texts.no_draft(tr))
        return lines, draft is not None

    # -- buttons ---------------------------------------------------------

    async def on_button(self, update: Update, context: YardemContext) -> None:
        query = update.callback_query
        if query is None:
            return
        member = await self.coordinator(update, context)
        action = decode(query.data).action
        if member is None or not isinstance(action, PanelPress):
            await self.button(update, context)
            return
        tr = self.tr(context, member)
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat_id if message is not None else None
        if chat_id is None:
            await _answer(query, tr, texts.stale(tr))
            return
        if action.panel == PREVIEW_VERB:
            await self.preview_press(query, context, member, tr, action.args, message)
            return
        op, *rest = action.args or ("",)
        arg = rest[0] if rest else None
        handlers: dict[str, Callable[[], Awaitable[str | None]]] = {
            "d": lambda: self.download(context, member, tr, chat_id),
            "u": lambda: self.ask_upload(context, member, tr, chat_id),
            "v": lambda: self.preview_start(context, member, tr, chat_id, arg),
            "p": lambda: self.publish_ask(context, member, tr, chat_id),
            "P": lambda: self.publish_confirm(context, member, tr, chat_id, arg, message),
            "h": lambda: self.history(context, tr, chat_id),
            "r": lambda: self.rollback_ask(context, tr, chat_id, arg),
            "R": lambda: self.rollback_confirm(context, member, tr, chat_id, arg, message),
            "m": lambda: self.map(context, member, tr, chat_id),
            "n": lambda: self.cancel(context, tr, message),
            "x": lambda: self.discard_ask(context, tr, chat_id),
            "X": lambda: self.discard_confirm(context, member, tr, message),
        }
        handler = handlers.get(op)
        alert = texts.stale(tr) if handler is None else await handler()
        await _answer(query, tr, alert)

    async def discard_ask(self, context: YardemContext, tr: Translator, chat_id: int) -> None:
        markup = InlineKeyboardMarkup(
            [
                [_button(tr.finish(texts.discard_now_label(tr)), "X")],
                [_button(tr.finish(texts.cancel_label(tr)), "n")],
            ]
        )
        await self.say(context, chat_id, tr, [texts.discard_ask(tr)], markup)
        return None

    async def discard_confirm(
        self, context: YardemContext, member: StaffMember, tr: Translator, message: Message | None
    ) -> None:
        # The way out of a draft that a newer publish left in conflict.
        await self.repository(context).discard_draft(member.key)
        self.previews.pop(member.key, None)
        log.info("a coordinator discarded their text draft")
        if message is not None:
            await _replace(context, message, tr.finish(texts.discarded(tr)))
        return None

    async def cancel(self, context: YardemContext, tr: Translator, message: Message | None) -> None:
        if message is not None:
            await _replace(context, message, tr.finish(texts.cancelled(tr)))
        return None

    async def download(
        self, context: YardemContext, member: StaffMember, tr: Translator, chat_id: int
    ) -> str | None:
        live = context.services.content.current
        assert live.sources is not None
        data = await asyncio.to_thread(download_zip, live.sources, live.number)
        # Texts are public content and translators need the files in their own tools:
        # the one thing the bot sends without protect_content, and only to coordinators.
        await context.bot.send_document(
            chat_id,
            InputFile(data, filename=download_name(live.number)),
            caption=tr.finish(texts.download_caption(tr, live.number)),
            protect_content=False,
        )
        return None

    async def ask_upload(
        self, context: YardemContext, member: StaffMember, tr: Translator, chat_id: int
    ) -> str | None:
        self.awaiting[member.key] = _now(context)
        await self.say(context, chat_id, tr, [texts.upload_prompt(tr)])
        return None

    # -- uploads ---------------------------------------------------------

    async def on_document(self, update: Update, context: YardemContext) -> None:
        message = update.effective_message
        document = message.document if message is not None else None
        member = await self.coordinator(update, context)
        if member is None or message is None or document is None:
            await self.message(update, context)
            return
        name = document.file_name or "upload"
        asked = self.awaiting.get(member.key)
        waiting = asked is not None and _now(context) - asked < UPLOAD_WAIT_SECONDS
        if not waiting and not name.lower().endswith(_DESK_FILES):
            # A PDF or a picture for the member they talk with: the relay's.
            await self.message(update, context)
            return
        self.awaiting.pop(member.key, None)
        tr = self.tr(context, member)
        if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
            # Refused from what Telegram says, before anything is downloaded.
            error = UploadError(
                UploadErrorCode.TOO_LARGE, file=name, size=document.file_size, limit=MAX_FILE_BYTES
            )
            await self.say(
                context,
                message.chat_id,
                tr,
                [report.upload_error(tr, error)],
                reply_to=message.message_id,
            )
            return
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
        result = await drafts.take_upload(
            context.services.content,
            self.repository(context),
            member.key,
            name,
            data,
            today=context.services.clock().date(),
        )
        self.previews.pop(member.key, None)
        # The report answers the file, so which upload it is about is never in doubt.
        await self.say(
            context,
            message.chat_id,
            tr,
            upload_report(tr, name, result),
            reply_to=message.message_id,
        )

    # -- preview ---------------------------------------------------------

    async def preview_start(
        self,
        context: YardemContext,
        member: StaffMember,
        tr: Translator,
        chat_id: int,
        locale: str | None,
    ) -> str | None:
        content = context.services.content
        working = await drafts.working_set(content, self.repository(context), member.key)
        if isinstance(working, drafts.Conflicted):
            lines = [*conflict_lines(tr, working), texts.discard_hint(tr)]
            await self.say(context, chat_id, tr, lines)
            return None
        registry = content.current.registry
        if working.has_draft:
            reviewed = await drafts.review(working, content)
            if isinstance(reviewed, drafts.Failed):
                await self.say(context, chat_id, tr, failed_lines(tr, reviewed))
                return None
            registry = reviewed.checked.registry
        locales = (SOURCE_LOCALE, *sorted(registry.catalogs))
        if locale is None or locale not in locales:
            rows = [[_button(_language(code), "v", code)] for code in locales]
            await self.say(
                context, chat_id, tr, [texts.preview_which(tr)], InlineKeyboardMarkup(rows)
            )
            return None
        found = translators(registry, content.values, fallback=content.shipped.registry.catalogs)
        preview = Preview(
            registry, found, locale, engine.step(registry, None, engine.Restart()).session
        )
        self.previews[member.key] = preview
        text, markup = preview.draw(tr)
        await context.bot.send_message(chat_id, text, reply_markup=markup, protect_content=True)
        return None

    async def preview_press(
        self,
        query: CallbackQuery,
        context: YardemContext,
        member: StaffMember,
        tr: Translator,
        args: tuple[str, ...],
        message: Message | None,
    ) -> None:
        preview = self.previews.get(member.key)
        if args == (QUIT,):
            self.previews.pop(member.key, None)
            if message is not None:
                await _replace(context, message, tr.finish(texts.preview_ended(tr)))
            await _answer(query, tr, None)
            return
        if preview is None or message is None or not preview.press(args):
            await _answer(query, tr, texts.stale(tr))
            return
        await _answer(query, tr, None)
        text, markup = preview.draw(tr)
        await _replace(context, message, text, markup)

    # -- publish ---------------------------------------------------------

    async def reviewed(
        self, context: YardemContext, member: StaffMember, tr: Translator, chat_id: int
    ) -> tuple[drafts.Working, drafts.Reviewed] | None:
        """The coordinator's draft, checked; None after saying why there is nothing to publish."""
        content = context.services.content
        working = await drafts.working_set(content, self.repository(context), member.key)
        if isinstance(working, drafts.Conflicted):
            lines = [*conflict_lines(tr, working), texts.discard_hint(tr)]
            await self.say(context, chat_id, tr, lines)
            return None
        if not working.has_draft:
            await self.say(context, chat_id, tr, [texts.nothing_to_publish(tr)])
            return None
        reviewed = await drafts.review(working, content)
        if isinstance(reviewed, drafts.Failed):
            await self.say(context, chat_id, tr, failed_lines(tr, reviewed))
            return None
        assert working.live.sources is not None
        if files_of(reviewed.sources) == files_of(working.live.sources):
            await self.say(context, chat_id, tr, [texts.nothing_to_publish(tr)])
            return None
        return working, reviewed

    async def publish_ask(
        self, context: YardemContext, member: StaffMember, tr: Translator, chat_id: int
    ) -> str | None:
        found = await self.reviewed(context, member, tr, chat_id)
        if found is None:
            return None
        working, reviewed = found
        live = working.live
        stamp = f"{live.number}-{fingerprint(reviewed.sources)}"
        markup = InlineKeyboardMarkup(
            [
                [_button(tr.finish(texts.publish_now_label(tr)), "P", stamp)],
                [_button(tr.finish(texts.cancel_label(tr)), "n")],
            ]
        )
        lines = [
            texts.publish_ask(tr, live.number + 1),
            *report.summary(tr, reviewed.summary),
            *report.warnings(tr, reviewed.checked.warnings),
        ]
        await self.say(context, chat_id, tr, lines, markup)
        return None

    async def publish_confirm(
        self,
        context: YardemContext,
        member: StaffMember,
        tr: Translator,
        chat_id: int,
        stamp: str | None,
        message: Message | None,
    ) -> str | None:
        content = context.services.content
        working = await drafts.working_set(content, self.repository(context), member.key)
        if isinstance(working, drafts.Conflicted) or not working.has_draft:
            return texts.stale(tr)
        reviewed = await drafts.review(working, content)
        if isinstance(reviewed, drafts.Failed):
            await self.say(context, chat_id, tr, failed_lines(tr, reviewed))
            return None
        if stamp != f"{working.live.number}-{fingerprint(reviewed.sources)}":
            # The draft or the live version changed since the confirmation was drawn.
            return texts.stale(tr)
        try:
            done = await publish(
                content,
                reviewed.sources,
                publisher=member.label,
                today=context.services.clock().date(),
                live=working.live,
                summary=reviewed.summary,
            )
        except NothingToPublish:
            await self.say(context, chat_id, tr, [texts.nothing_to_publish(tr)])
            return None
        except PublishRefused as refused:
            failure = drafts.Failed(
                refused.issues, (), None if refused.issues else refused.problems[0]
            )
            await self.say(context, chat_id, tr, failed_lines(tr, failure))
            return None
        except VersionConflict:
            return texts.stale(tr)
        await self.repository(context).discard_draft(member.key)
        self.previews.pop(member.key, None)
        if message is not None:
            await _replace(context, message, tr.finish(texts.published(tr, done.info.number)))
        await self.announce(context, member, done)
        return None

    async def announce(
        self, context: YardemContext, publisher: StaffMember, done: Published
    ) -> None:
        """Tell the other coordinators; give each coordinator their language's pending texts."""
        services = context.services
        registry = done.snapshot.registry
        for other in await services.staff.everyone():
            if not other.active or not other.is_coordinator:
                continue
            tr = services.content.current.translators.get(other.locale)
            if tr is None:
                tr = services.content.current.translators[SOURCE_LOCALE]
            try:
                chat = await services.staff.chat_id(other)
                if other.key != publisher.key:
                    await context.bot.send_message(
                        chat,
                        tr.finish(texts.went_live(tr, done.info.number, publisher.label)),
                        protect_content=True,
                    )
                await self.send_pending(context, chat, other.locale, tr, registry, done.info.number)
            except (StorageError, TelegramError) as error:
                log.info("a coordinator could not be told of a publish: %s", type(error).__name__)

    async def send_pending(
        self,
        context: YardemContext,
        chat: int,
        locale: str,
        tr: Translator,
        registry: Registry,
        number: int,
    ) -> None:
        catalog = registry.catalogs.get(locale)
        if locale == SOURCE_LOCALE or catalog is None:
            return
        pending = pending_texts(registry.flows.values(), catalog, registry.template)
        if not pending:
            return
        old = {
            (entry.context, entry.msgid): entry.msgstr[0]
            for entry in catalog.entries.values()
            if entry.msgstr and entry.msgstr[0]
        }
        data = pending_catalog(locale, number, pending, old)
        await context.bot.send_document(
            chat,
            InputFile(data, filename=f"pending-{locale}-v{number}.po"),
            caption=tr.finish(texts.pending_caption(tr, len(pending))),
            protect_content=False,
        )

    # -- history and rollback --------------------------------------------

    async def history(self, context: YardemContext, tr: Translator, chat_id: int) -> str | None:
        listed = await self.repository(context).history(HISTORY_SHOWN)
        if not listed:
            await self.say(context, chat_id, tr, [texts.history_empty(tr)])
            return None
        lines = [texts.history_header(tr)]
        live = context.services.content.current.number
        choices: list[int] = []
        for entry in listed:
            if isinstance(entry, BrokenVersion):
                lines.append(texts.history_damaged(tr, entry.number))
                continue
            line = texts.history_line(tr, entry.number, entry.day.isoformat(), entry.publisher)
            if entry.base != entry.number - 1:
                line += " " + texts.history_rollback_of(tr, entry.base)
            lines.append(line)
            changed = entry.summary.get("texts")
            for locale, changes in changed.items() if isinstance(changed, dict) else ():
                count = len(changes.get("changed") or []) if isinstance(changes, dict) else 0
                if count:
                    lines.append("   " + texts.texts_changed(tr, locale, count))
            if entry.number != live and len(choices) < ROLLBACK_BUTTONS:
                choices.append(entry.number)
        if live != 0 and len(choices) < ROLLBACK_BUTTONS:
            choices.append(0)
        rows = [[_button(tr.finish(texts.rollback_label(tr, n)), "r", str(n))] for n in choices]
        await self.say(context, chat_id, tr, lines, InlineKeyboardMarkup(rows) if rows else None)
        return None

    async def rollback_ask(
        self, context: YardemContext, tr: Translator, chat_id: int, arg: str | None
    ) -> str | None:
        number = _number(arg)
        live = context.services.content.current.number
        if number is None or number == live or number > live:
            return texts.stale(tr)
        markup = InlineKeyboardMarkup(
            [
                [_button(tr.finish(texts.rollback_now_label(tr)), "R", f"{number}-{live}")],
                [_button(tr.finish(texts.cancel_label(tr)), "n")],
            ]
        )
        await self.say(context, chat_id, tr, [texts.rollback_ask(tr, number, live + 1)], markup)
        return None

    async def rollback_confirm(
        self,
        context: YardemContext,
        member: StaffMember,
        tr: Translator,
        chat_id: int,
        arg: str | None,
        message: Message | None,
    ) -> str | None:
        content = context.services.content
        number, _, seen = (arg or "").partition("-")
        target, live = _number(number), content.current
        if target is None or _number(seen) != live.number or target >= live.number:
            return texts.stale(tr)
        try:
            done = await rollback(
                content,
                target,
                publisher=member.label,
                today=context.services.clock().date(),
                live=live,
            )
        except NothingToPublish:
            await self.say(context, chat_id, tr, [texts.nothing_to_publish(tr)])
            return None
        except PublishRefused as refused:
            failure = drafts.Failed(
                refused.issues, (), None if refused.issues else refused.problems[0]
            )
            await self.say(context, chat_id, tr, failed_lines(tr, failure))
            return None
        except (VersionConflict, UnknownVersion, ContentIntegrityError):
            return texts.stale(tr)
        if message is not None:
            await _replace(context, message, tr.finish(texts.published(tr, done.info.number)))
        await self.announce(context, member, done)
        return None

    # -- map -------------------------------------------------------------

    async def map(
        self, context: YardemContext, member: StaffMember, tr: Translator, chat_id: int
    ) -> str | None:
        content = context.services.content
        registry = content.current.registry
        working = await drafts.working_set(content, self.repository(context), member.key)
        if isinstance(working, drafts.Working) and working.has_draft:
            reviewed = await drafts.review(working, content)
            if isinstance(reviewed, drafts.Reviewed):
                registry = reviewed.checked.registry
        locale = member.locale if member.locale in registry.catalogs else None
        dot = registry_graph_dot(registry, locale)
        try:
            # SVG: drawn in under a second and small; a PNG of every flow is megapixels.
            picture = await asyncio.to_thread(render, dot, ImageFormat.SVG)
        except GraphvizMissing:
            await self.say(context, chat_id, tr, [texts.map_needs_graphviz(tr)])
            return None
        except FlowError as error:
            log.warning("the flow map could not be drawn: %s", error)
            await self.say(context, chat_id, tr, [texts.map_failed(tr)])
            return None
        await context.bot.send_document(
            chat_id,
            InputFile(picture, filename="yardem-flows.svg"),
            caption=tr.finish(texts.map_caption(tr)),
            protect_content=False,
        )
        return None


def completeness(tr: Translator, registry: Registry) -> list[str]:
    """One line per translated locale: translated, pending (missing) and fuzzy texts."""
    flows = list(registry.flows.values())
    total = len(pending_texts(flows, None, registry.template))
    lines = []
    for locale, catalog in sorted(registry.catalogs.items()):
        pending = pending_texts(flows, catalog, registry.template)
        fuzzy = sum(1 for text in pending if text.reason is PendingReason.FUZZY)
        missing = len(pending) - fuzzy
        lines.append(texts.locale_line(tr, locale, total - len(pending), missing, fuzzy))
    return lines


def conflict_lines(tr: Translator, conflicted: drafts.Conflicted) -> list[str]:
    return [
        texts.conflicted(tr, conflicted.base, conflicted.live),
        *report.conflicts(tr, conflicted.conflicts),
    ]


def failed_lines(tr: Translator, failure: drafts.Failed) -> list[str]:
    if failure.detail is not None and not failure.errors:
        return [texts.unreadable_set(tr, failure.detail)]
    return [
        texts.failed(tr, len(failure.errors)),
        *report.issues(tr, failure.errors),
        *report.warnings(tr, failure.warnings),
    ]


def upload_report(tr: Translator, name: str, result: drafts.UploadResult) -> list[str]:
    """ONE message: what happened to the upload, its problems, and what the draft changes."""
    if isinstance(result, drafts.Refused):
        return [report.upload_error(tr, result.error)]
    if isinstance(result, drafts.Conflicted):
        return conflict_lines(tr, result)
    if isinstance(result, drafts.Failed):
        return failed_lines(tr, result)
    lines = [texts.added(tr, name)]
    if result.merged:
        lines.append(texts.merged_note(tr, result.base, result.live))
    return [*lines, *report.summary(tr, result.summary), *report.warnings(tr, result.warnings)]


def _language(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def _number(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _now(context: YardemContext) -> float:
    return context.services.clock().timestamp()


async def _answer(query: CallbackQuery, tr: Translator, alert: str | None) -> None:
    try:
        if alert is None:
            await query.answer()
        else:
            await query.answer(tr.finish(alert), show_alert=True)
    except BadRequest:
        log.debug("a desk button press was too old to answer")


async def _replace(
    context: YardemContext,
    message: Message,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    try:
        await context.bot.edit_message_text(
            text, chat_id=message.chat_id, message_id=message.message_id, reply_markup=markup
        )
    except BadRequest:
        await context.bot.send_message(
            message.chat_id, text, reply_markup=markup, protect_content=True
        )


def register(
    application: YardemApplication, *, stray: Fallback, message: Fallback, button: Fallback
) -> None:
    """Add the desk's handlers; call before the member and staff handlers are added."""
    desk = TextDesk(stray, message, button)
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("texts", desk.on_texts, filters=private))
    application.add_handler(MessageHandler(private & filters.Document.ALL, desk.on_document))
    application.add_handler(
        CallbackQueryHandler(desk.on_button, pattern=rf"^s\|[{DESK_VERB}{PREVIEW_VERB}](\||$)")
    )
