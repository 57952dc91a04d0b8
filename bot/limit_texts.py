"""What the bot says about limits: floods, the relay's pace, newcomers, urgent digests."""

from __future__ import annotations

from bot.i18n import Translator, substitute

# Members and anyone sending too fast ------------------------------------------


def slowed(tr: Translator) -> str:
    return tr.gettext(
        "You are sending messages faster than Yardem can read them. Please wait a minute "
        "before you go on. What you sent meanwhile was not read, and /wipe cannot delete it: "
        "delete it yourself in Telegram."
    )


def ignored(tr: Translator, minutes: int) -> str:
    return substitute(
        tr.ngettext(
            "Too many messages in a short time: Yardem will not answer this chat for "
            "{n} minute. /wipe still works.",
            "Too many messages in a short time: Yardem will not answer this chat for "
            "{n} minutes. /wipe still works.",
            minutes,
        ),
        {"n": str(minutes)},
    )


def relay_too_fast(tr: Translator) -> str:
    return tr.gettext(
        "You are sending faster than messages can be passed on. This message was not passed "
        "on: wait a minute, then send it again."
    )


# Strangers when Yardem is full ---------------------------------------------------


def newcomer_busy(tr: Translator) -> str:
    return tr.gettext(
        "Yardem is receiving more new people than it can take right now, so it cannot start "
        "with you yet. Nothing about you has been stored. Please try again in an hour."
    )


def newcomer_crisis(tr: Translator) -> str:
    return tr.gettext("If you are detained or stopped right now, press the button below.")


# Volunteers and coordinators: urgent requests ---------------------------------------


def digest_heading(tr: Translator, count: int) -> str:
    return substitute(
        tr.ngettext(
            "⚠ {n} urgent request is still unclaimed:",
            "⚠ {n} urgent requests are still unclaimed:",
            count,
        ),
        {"n": str(count)},
    )


def digest_item(
    tr: Translator, reference: str, topic: str, language: str, urgency: str, age: str
) -> str:
    return substitute(
        tr.gettext("{reference}: {topic}, {language}, {urgency}, filed {age}"),
        {
            "reference": reference,
            "topic": topic,
            "language": language,
            "urgency": urgency,
            "age": age,
        },
    )


def digest_coordinators_only(tr: Translator) -> str:
    return tr.gettext("(over 24 hours: only coordinators are reminded)")


def digest_more(tr: Translator, count: int) -> str:
    return substitute(
        tr.ngettext(
            "…and {n} more not shown here.",
            "…and {n} more not shown here.",
            count,
        ),
        {"n": str(count)},
    )


def digest_claim_label(tr: Translator, reference: str) -> str:
    return substitute(tr.gettext("Claim {reference}"), {"reference": reference})


def coordinators_only(tr: Translator) -> str:
    return tr.gettext(
        "⚠ Coordinators: this urgent request has waited over 24 hours; volunteers are no "
        "longer reminded of it"
    )
