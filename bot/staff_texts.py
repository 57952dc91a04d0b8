"""What the bot says to volunteers and coordinators."""

from __future__ import annotations

from bot import locale_texts
from bot.i18n import Translator, substitute
from bot.referral_terms import Outcome


def help_text(tr: Translator, coordinator: bool) -> str:
    text = tr.gettext(
        "Volunteer commands:\n"
        "/mine: the requests you hold\n"
        "/languages: the languages you handle\n"
        "Whatever you write here goes to the member you are talking with."
    )
    if coordinator:
        text += "\n\n" + tr.gettext(
            "Coordinator commands:\n"
            "/invite volunteer or /invite coordinator: a single-use invite link\n"
            "/volunteers: list, suspend or remove volunteers"
        )
        text += "\n" + locale_texts.command_help(tr)
    return text


def notice(
    tr: Translator, reference: str, topic: str, language: str, urgency: str, age: str
) -> str:
    return substitute(
        tr.gettext(
            "New request {reference}\nTopic: {topic}\nLanguage: {language}\nUrgency: {urgency}\n"
            "Filed: {age}"
        ),
        {
            "reference": reference,
            "topic": topic,
            "language": language,
            "urgency": urgency,
            "age": age,
        },
    )


def reminder(tr: Translator) -> str:
    return tr.gettext("⚠ Urgent and still unclaimed")


def escalation(tr: Translator) -> str:
    return tr.gettext("⚠ Coordinators: no volunteer has claimed this urgent request")


def age(tr: Translator, days: int) -> str:
    if days <= 0:
        return tr.gettext("today")
    return substitute(tr.ngettext("{n} day ago", "{n} days ago", days), {"n": str(days)})


def claim_label(tr: Translator) -> str:
    return tr.gettext("Claim")


def taken(tr: Translator, reference: str) -> str:
    return substitute(tr.gettext("Request {reference} has been taken."), {"reference": reference})


def claim_lost(tr: Translator) -> str:
    return tr.gettext("Someone else has already taken this request.")


def not_allowed(tr: Translator) -> str:
    return tr.gettext("This is not available to you.")


def now_talking(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext(
            "You are now talking with the member of request {reference}. What you write here "
            "is copied to them without your name or account. Send /mine to release, hand over "
            "or close."
        ),
        {"reference": reference},
    )


def mine_empty(tr: Translator) -> str:
    return tr.gettext("You hold no requests.")


def mine_item(tr: Translator, reference: str, topic: str, language: str, urgency: str) -> str:
    return substitute(
        tr.gettext("{reference}: {topic}, {language}, {urgency}"),
        {"reference": reference, "topic": topic, "language": language, "urgency": urgency},
    )


def current_mark(tr: Translator) -> str:
    return tr.gettext("(you are talking here)")


def talk_label(tr: Translator) -> str:
    return tr.gettext("Talk here")


def release_label(tr: Translator) -> str:
    return tr.gettext("Release")


def handover_label(tr: Translator) -> str:
    return tr.gettext("Hand over")


def close_label(tr: Translator) -> str:
    return tr.gettext("Close")


def released(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext("You released {reference}; it is back in the queue."), {"reference": reference}
    )


def handover_asked(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext(
            "A coordinator has been asked to hand {reference} over. Keep talking until it is."
        ),
        {"reference": reference},
    )


def handover_request(tr: Translator, reference: str, label: str) -> str:
    return substitute(
        tr.gettext("Volunteer {label} asks to hand over {reference}. Choose who takes it:"),
        {"reference": reference, "label": label},
    )


def no_one_to_assign(tr: Translator) -> str:
    return tr.gettext("No other active volunteer handles this language.")


def assigned_to_you(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext("Request {reference} has been handed over to you."), {"reference": reference}
    )


def handed_over(tr: Translator, reference: str, label: str) -> str:
    return substitute(
        tr.gettext("{reference} is now with volunteer {label}."),
        {"reference": reference, "label": label},
    )


def close_question(tr: Translator, reference: str) -> str:
    return substitute(tr.gettext("How did {reference} end?"), {"reference": reference})


def outcomes(tr: Translator) -> dict[Outcome, str]:
    return {
        Outcome.INFORMED: tr.gettext("Informed"),
        Outcome.LAWYER: tr.gettext("Referred to a lawyer"),
        Outcome.NGO: tr.gettext("Referred to an NGO"),
        Outcome.NO_RESPONSE: tr.gettext("No response"),
        Outcome.OTHER: tr.gettext("Other"),
    }


def closed_untold(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext(
            "{reference} is closed, but the member could not be told: they may have blocked "
            "the bot or deleted the chat."
        ),
        {"reference": reference},
    )


def closed(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext("{reference} is closed. The member has been told."), {"reference": reference}
    )


def relay_header(tr: Translator, reference: str) -> str:
    return substitute(tr.gettext("From the member of {reference}:"), {"reference": reference})


def reply_label(tr: Translator) -> str:
    return tr.gettext("Reply to this member")


def no_conversation(tr: Translator) -> str:
    return tr.gettext(
        'This was not sent: choose whom you answer first. Tap "Reply to this member" under '
        "their message, or send /mine."
    )


def invite_used(tr: Translator, label: str, coordinator: bool) -> str:
    text = (
        tr.gettext("Your invite was used: {label} is now a coordinator.")
        if coordinator
        else tr.gettext("Your invite was used: {label} is now a volunteer.")
    )
    return substitute(text, {"label": label})


def already_registered(tr: Translator) -> str:
    return tr.gettext(
        "This account is already registered, so the invite was not used. Ask a coordinator."
    )


def coordinators_by_admin(tr: Translator) -> str:
    return tr.gettext("Coordinators are suspended or removed on the server, not here.")


def member_left(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext("The member of {reference} has cancelled or erased their request."),
        {"reference": reference},
    )


def member_unreachable(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext(
            "This could not be delivered: the member of {reference} has blocked the bot or "
            "deleted the chat."
        ),
        {"reference": reference},
    )


def not_delivered(tr: Translator) -> str:
    return tr.gettext("This could not be delivered. Please try again in a moment.")


def invite_usage(tr: Translator) -> str:
    return tr.gettext("Send /invite volunteer or /invite coordinator.")


def invite_created(tr: Translator, link: str, hours: int) -> str:
    return substitute(
        tr.gettext(
            "A single-use invite link. It works once and expires in {hours} hours. Send it only "
            "to the person, over a safe channel:\n{link}"
        ),
        {"hours": str(hours), "link": link},
    )


def welcome(tr: Translator, coordinator: bool) -> str:
    if coordinator:
        return tr.gettext("You are now a Yardem coordinator.")
    return tr.gettext("You are now a Yardem volunteer.")


def pick_languages(tr: Translator) -> str:
    return tr.gettext("Which languages can you help in? Tap to select, then Done.")


def done_label(tr: Translator) -> str:
    return tr.gettext("Done")


def languages_saved(tr: Translator) -> str:
    return tr.gettext("Saved. You will get notices for requests in these languages.")


def roster_empty(tr: Translator) -> str:
    return tr.gettext("There are no volunteers yet. Send /invite volunteer.")


def roster_item(tr: Translator, label: str, role: str, languages: str, active: bool) -> str:
    state = tr.gettext("active") if active else tr.gettext("suspended")
    return f"{label} · {role} · {languages or '—'} · {state}"


def role_name(tr: Translator, coordinator: bool) -> str:
    return tr.gettext("coordinator") if coordinator else tr.gettext("volunteer")


def suspend_label(tr: Translator) -> str:
    return tr.gettext("Suspend")


def reinstate_label(tr: Translator) -> str:
    return tr.gettext("Reinstate")


def remove_label(tr: Translator) -> str:
    return tr.gettext("Remove")


def staff_changed(tr: Translator, label: str, returned: int) -> str:
    return substitute(
        tr.ngettext(
            "Done for {label}. {n} request went back to the queue.",
            "Done for {label}. {n} requests went back to the queue.",
            returned,
        ),
        {"label": label, "n": str(returned)},
    )


def access_ended(tr: Translator) -> str:
    return tr.gettext("A coordinator has ended your access to Yardem's requests.")


def access_paused(tr: Translator) -> str:
    return tr.gettext("A coordinator has paused your access to Yardem's requests.")


def access_restored(tr: Translator) -> str:
    return tr.gettext("A coordinator has restored your access to Yardem's requests.")


def now_urgent(tr: Translator) -> str:
    return tr.gettext("⚠ Now urgent: the member says they are detained or stopped now")


def held_now_urgent(tr: Translator, reference: str) -> str:
    return substitute(
        tr.gettext(
            "⚠ {reference} is now urgent: the member says they are detained or stopped now."
        ),
        {"reference": reference},
    )


# Whom a volunteer's messages go to -------------------------------------------


def hold_note(tr: Translator, reference: str, current: str | None) -> str:
    if current is None:
        text = tr.gettext(
            "You now hold {reference}. Your messages go to no one until you tap Talk here."
        )
    else:
        text = tr.gettext(
            "You now hold {reference}. Your messages still go to the member of {current} "
            "until you tap Talk here."
        )
    return substitute(text, {"reference": reference, "current": current or ""})


def target_dropped(tr: Translator, previous: str) -> str:
    return substitute(
        tr.gettext(
            "Your messages no longer go to the member of {previous}. Tap "
            '"Reply to this member", or Talk here in /mine, to choose whom you answer.'
        ),
        {"previous": previous},
    )


# What the relay refuses ------------------------------------------------------


def relay_refused_kind(tr: Translator) -> str:
    return tr.gettext(
        "This was not sent to the member. Only text, photos, voice notes, video notes, videos "
        "and PDF or image files are passed on; contacts, locations, polls, stickers and the "
        "like are not, because they can identify or mislead."
    )


def relay_refused_file(tr: Translator) -> str:
    return tr.gettext(
        "This file was not sent to the member: only PDF files and images (JPEG, PNG, WebP, "
        "HEIC) are passed on, because other files can carry harmful code."
    )


def relay_edit_refused(tr: Translator) -> str:
    return tr.gettext(
        "Edits are not passed on: the member still sees what you sent first. Send a new "
        "message instead."
    )


# Limits and approvals ----------------------------------------------------------


def held_limit(tr: Translator, limit: int) -> str:
    return substitute(
        tr.ngettext(
            "You already hold {n} request, the most one person may hold. Close, release or "
            "hand over one first.",
            "You already hold {n} requests, the most one person may hold. Close, release or "
            "hand over one first.",
            limit,
        ),
        {"n": str(limit)},
    )


def target_full(tr: Translator, label: str) -> str:
    return substitute(
        tr.gettext("{label} already holds as many requests as one person may."), {"label": label}
    )


def languages_waiting(tr: Translator, languages: str) -> str:
    return substitute(
        tr.gettext(
            "Waiting for a coordinator's approval: {languages}. You will get their notices once "
            "it is given."
        ),
        {"languages": languages},
    )


def language_request(tr: Translator, label: str, language: str) -> str:
    return substitute(
        tr.gettext("Volunteer {label} asks to take requests in {language}."),
        {"label": label, "language": language},
    )


def approve_label(tr: Translator) -> str:
    return tr.gettext("Approve")


def refuse_label(tr: Translator) -> str:
    return tr.gettext("Refuse")


def language_decided(
    tr: Translator, label: str, language: str, approved: bool, coordinator: str
) -> str:
    text = (
        tr.gettext("{coordinator} approved {language} for {label}.")
        if approved
        else tr.gettext("{coordinator} refused {language} for {label}.")
    )
    return substitute(text, {"coordinator": coordinator, "language": language, "label": label})


def language_approved(tr: Translator, language: str) -> str:
    return substitute(
        tr.gettext("A coordinator approved {language}: you will get its requests' notices now."),
        {"language": language},
    )


def language_refused(tr: Translator, language: str) -> str:
    return substitute(
        tr.gettext("A coordinator did not approve {language}."), {"language": language}
    )


def already_decided(tr: Translator) -> str:
    return tr.gettext("This was already decided, or the request was withdrawn.")


def roster_load(tr: Translator, held: int, claims: int) -> str:
    return substitute(
        tr.ngettext(
            "holds {held} · {n} claim in 7 days",
            "holds {held} · {n} claims in 7 days",
            claims,
        ),
        {"held": str(held), "n": str(claims)},
    )


def roster_pending(tr: Translator, languages: str) -> str:
    return substitute(tr.gettext("awaiting approval: {languages}"), {"languages": languages})


def claim_alert(tr: Translator, label: str, claims: int) -> str:
    return substitute(
        tr.ngettext(
            "⚠ {label} has claimed {n} request today, more than usual. Check /volunteers and "
            "suspend the account if this is not expected.",
            "⚠ {label} has claimed {n} requests today, more than usual. Check /volunteers and "
            "suspend the account if this is not expected.",
            claims,
        ),
        {"label": label, "n": str(claims)},
    )


def went_wrong(tr: Translator) -> str:
    return tr.gettext("Sorry, something went wrong on our side. Please try again in a moment.")
