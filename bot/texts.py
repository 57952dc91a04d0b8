"""Every sentence the bot itself says, marked for gettext extraction.

Flow texts come from the flow definitions; these are the few strings around
them. Keeping them in one module makes the catalog easy to review.
"""

from __future__ import annotations

from bot.i18n import Translator, substitute
from flows.model import Validator


def safety_notice(tr: Translator) -> str:
    return tr.gettext(
        "Before you start:\n"
        "• This chat is not end-to-end encrypted. Telegram can read it.\n"
        "• Never send names, phone numbers, addresses or documents here.\n"
        "• Yardem's name shows in your chat list. In Telegram, turn off message previews "
        "for this chat.\n"
        "• Before you hand your phone to anyone, send /wipe: Yardem deletes the last two "
        "days of messages and everything it stores about you. Then delete this chat in "
        "Telegram."
    )


def choose_language(tr: Translator) -> str:
    return tr.gettext("Choose your language:")


def welcome_back(tr: Translator) -> str:
    return tr.gettext("Welcome back. Here is where you left off.")


def back_label(tr: Translator) -> str:
    return tr.gettext("◀ Back")


def menu_label(tr: Translator) -> str:
    return tr.gettext("☰ Menu")


def language_label(tr: Translator) -> str:
    return tr.gettext("🌐 Language")


def wipe_label(tr: Translator) -> str:
    return tr.gettext("🧹 Wipe this chat")


def stale(tr: Translator) -> str:
    return tr.gettext("This menu has changed. Here is the main menu.")


def language_unavailable(tr: Translator) -> str:
    return tr.gettext("This language is not available at the moment. Please choose another.")


def use_buttons(tr: Translator) -> str:
    return tr.gettext("Please choose one of the buttons below.")


def invalid_answer(tr: Translator, validator: Validator, max_length: int) -> str:
    if validator is Validator.NUMBER:
        return tr.gettext("Please send a number, using digits only.")
    if validator is Validator.COUNTRY_CODE:
        return tr.gettext("Please send a two-letter country code, for example DE.")
    return substitute(
        tr.gettext("Please send a short answer of at most {max_length} characters."),
        {"max_length": str(max_length)},
    )


def typed_text_deleted(tr: Translator) -> str:
    return tr.gettext(
        "Yardem deleted your message: it only understands the buttons. "
        "Please do not type personal details here."
    )


def wipe_question(tr: Translator) -> str:
    return tr.gettext(
        "Delete this chat's messages from the last two days and everything Yardem "
        "stores about you? This cannot be undone."
    )


def wipe_confirm_label(tr: Translator) -> str:
    return tr.gettext("Yes, wipe everything")


def wipe_cancel_label(tr: Translator) -> str:
    return tr.gettext("Cancel")


def wipe_done(tr: Translator) -> str:
    # Shown as a pop-up, which Telegram limits to 200 characters; a test checks.
    return tr.gettext(
        "Done. Yardem deleted the recent messages and forgot everything about you. "
        "To remove the chat itself, delete it in Telegram."
    )


def wipe_partly_done(tr: Translator) -> str:
    return tr.gettext(
        "Yardem forgot everything about you, but Telegram did not let it delete some "
        "messages. Delete this chat in Telegram to remove them."
    )


def wipe_done_staff(tr: Translator) -> str:
    # A volunteer's /wipe clears their chat, not their registration: say so.
    return tr.gettext(
        "Yardem deleted what it could of this chat. You are still registered as a volunteer "
        "or coordinator, and messages relayed to you stay: delete the chat in Telegram."
    )


def something_went_wrong(tr: Translator) -> str:
    return tr.gettext("Sorry, something went wrong on our side. Here is the menu.")


def command_start(tr: Translator) -> str:
    return tr.gettext("Start, or return to where you were")


def command_menu(tr: Translator) -> str:
    return tr.gettext("Show the main menu")


def command_language(tr: Translator) -> str:
    return tr.gettext("Change the language")


def command_wipe(tr: Translator) -> str:
    return tr.gettext("Delete recent messages and everything stored about you")


def command_status(tr: Translator) -> str:
    return tr.gettext("Your request for a volunteer")


def terminal_instructions(tr: Translator) -> str:
    return tr.gettext("Type a number to press a button, other text to answer, q to quit.")


def terminal_request_not_sent(tr: Translator) -> str:
    return tr.gettext(
        "(In the terminal no request is sent: in Telegram, volunteers would be told now.)"
    )


def terminal_pick_language(tr: Translator) -> str:
    return tr.gettext("Type the number of a language.")
