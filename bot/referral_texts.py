"""What the bot says to a member about their request for a volunteer."""

from __future__ import annotations

from bot.i18n import Translator, substitute


def question(tr: Translator, field: str, *, held_now: bool = False) -> str:
    """``held_now``: asked of someone detained or stopped now, for whom the country
    that matters is where they are, not where they live."""
    if field == "c" and held_now:
        return tr.gettext("Where are you now?")
    questions = {
        "t": tr.gettext("What is it about?"),
        "u": tr.gettext("How urgent is it?"),
        "c": tr.gettext("Which country do you live in now?"),
        "l": tr.gettext("Which language should the volunteer speak?"),
    }
    return questions[field]


def step(tr: Translator, number: int, total: int) -> str:
    return substitute(
        tr.gettext("Question {number} of {total}"), {"number": str(number), "total": str(total)}
    )


def cancel_label(tr: Translator) -> str:
    # Said in full: a member half way through the questions must know that this
    # drops the request being written, and nothing else.
    return tr.gettext("✖ Cancel this request")


def refused_already_open(tr: Translator) -> str:
    return tr.gettext("You already have an open request. Send /status to see it.")


def refused_daily_limit(tr: Translator) -> str:
    return tr.gettext(
        "You have asked for a volunteer several times today. Please try again tomorrow."
    )


def status_none(tr: Translator) -> str:
    return tr.gettext("You have no open request for a volunteer.")


def status_waiting(tr: Translator) -> str:
    return tr.gettext(
        "Your request is waiting for a volunteer. You will get a message here when one takes it."
    )


def status_urgent(tr: Translator) -> str:
    return tr.gettext(
        "Your request is marked urgent and is waiting for a volunteer. Volunteers are reminded "
        "until one takes it; you will get a message here when one does."
    )


def escalated_waiting(tr: Translator) -> str:
    return tr.gettext(
        "You already have an open request. It is now marked urgent, and volunteers have been "
        "told. You will get a message here when one takes it.\n\n"
        "Send /status to see it or to cancel it."
    )


def escalated_claimed(tr: Translator) -> str:
    return tr.gettext(
        "You already have an open request, and a volunteer has it. It is now marked urgent, and "
        "the volunteer knows. Write here and your messages go to them."
    )


def status_claimed(tr: Translator) -> str:
    return tr.gettext("A volunteer is talking with you. Write here and your messages go to them.")


def cancel_request_label(tr: Translator) -> str:
    return tr.gettext("Cancel my request")


def cancel_question(tr: Translator) -> str:
    return tr.gettext(
        "Cancel your request? Your next messages will no longer reach the volunteer, and the "
        "bot deletes or blanks what it passed on, in their chat and in this one."
    )


def cancel_confirm_label(tr: Translator) -> str:
    return tr.gettext("Yes, cancel it")


def keep_label(tr: Translator) -> str:
    return tr.gettext("No, keep it")


def cancelled(tr: Translator) -> str:
    return tr.gettext("Your request is cancelled and erased.")


def claimed(tr: Translator) -> str:
    return tr.gettext(
        "A volunteer has taken your request. Write here and your messages go to them; "
        "their answers appear here. Do not send names, addresses or documents.\n\n"
        "Send /status to see your request or to end the conversation."
    )


def released(tr: Translator) -> str:
    return tr.gettext(
        "Your request is waiting for another volunteer. You will get a message here when one "
        "takes it."
    )


def closed(tr: Translator) -> str:
    return tr.gettext(
        "The volunteer has closed this conversation. You can ask for a volunteer again from "
        "the menu. Send /wipe to delete this chat's messages."
    )


def expired(tr: Translator) -> str:
    return tr.gettext(
        "No volunteer could take your request in time, so it has been erased. "
        "You can ask again from the menu."
    )


def not_delivered(tr: Translator) -> str:
    return tr.gettext("Your message could not be delivered. Please try again in a moment.")


def waiting_typed(tr: Translator) -> str:
    return tr.gettext(
        "No volunteer has taken your request yet, so your message was deleted. "
        "You will get a message here when one takes it."
    )


def relay_refused_kind(tr: Translator) -> str:
    return tr.gettext(
        "This was not passed on to the volunteer and has been removed from this chat. Only "
        "text, photos, voice notes, video notes, videos and PDF or image files are passed on; "
        "contacts, locations, polls and stickers can identify you, so they never are."
    )


def relay_refused_file(tr: Translator) -> str:
    return tr.gettext(
        "This file was not passed on to the volunteer and has been removed from this chat. "
        "Only PDF files and images are passed on, because other files can carry harmful code."
    )


def relay_edit_refused(tr: Translator) -> str:
    return tr.gettext(
        "Changes to a message are not passed on: the volunteer still sees what you sent first. "
        "Send a new message instead."
    )


def handed_over(tr: Translator) -> str:
    return tr.gettext(
        "Another volunteer is taking over your request. Write here as before; your messages "
        "go to them now."
    )


def copies_removed(tr: Translator) -> str:
    return tr.gettext(
        "For your safety, the bot has deleted or blanked the messages it passed on in this "
        "conversation, here and in the volunteer's chat."
    )
