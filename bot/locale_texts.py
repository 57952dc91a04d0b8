"""What coordinators read when they switch members' languages on or off (``/locales``)."""

from __future__ import annotations

from bot.i18n import Translator, substitute


def command_help(tr: Translator) -> str:
    return tr.gettext("/locales: switch the languages members may pick on or off")


def overview_title(tr: Translator) -> str:
    return tr.gettext("Languages members may pick:")


def state_on(tr: Translator, name: str) -> str:
    return substitute(tr.gettext("{name}: on"), {"name": name})


def state_off(tr: Translator, name: str) -> str:
    return substitute(tr.gettext("{name}: off"), {"name": name})


def untranslated(tr: Translator, count: int) -> str:
    return substitute(tr.gettext("untranslated texts: {count}"), {"count": str(count)})


def switch_on_label(tr: Translator, name: str) -> str:
    return substitute(tr.gettext("Switch on: {name}"), {"name": name})


def switch_off_label(tr: Translator, name: str) -> str:
    return substitute(tr.gettext("Switch off: {name}"), {"name": name})


def confirm_on(tr: Translator, name: str) -> str:
    return substitute(
        tr.gettext("Switch {name} on? Members will see it in the language picker."),
        {"name": name},
    )


def confirm_off(tr: Translator, name: str) -> str:
    return substitute(
        tr.gettext(
            "Switch {name} off? It leaves the language picker, and members who read it "
            "are asked to choose another language."
        ),
        {"name": name},
    )


def confirm_label(tr: Translator) -> str:
    return tr.gettext("Yes, switch it")


def cancel_label(tr: Translator) -> str:
    return tr.gettext("Cancel")


def incomplete(tr: Translator, name: str, count: int) -> str:
    return substitute(
        tr.gettext("{name} cannot be switched on yet: untranslated texts: {count}."),
        {"name": name, "count": str(count)},
    )


def unknown_language(tr: Translator) -> str:
    return tr.gettext("This language is not in the live texts any more. Send /locales again.")


def now_on(tr: Translator, name: str) -> str:
    return substitute(tr.gettext("{name} is now on for members."), {"name": name})


def now_off(tr: Translator, name: str) -> str:
    return substitute(tr.gettext("{name} is now off for members."), {"name": name})


def cancelled(tr: Translator) -> str:
    return tr.gettext("Nothing was changed.")
