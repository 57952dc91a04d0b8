"""What the text desk says to coordinators, in their language."""

from __future__ import annotations

from bot.i18n import Translator, substitute


def _s(tr: Translator, text: str, **values: str | int) -> str:
    return substitute(text, {name: str(value) for name, value in values.items()})


def overview_shipped(tr: Translator) -> str:
    return tr.gettext("Live texts: version 0, the files shipped with the program.")


def overview(tr: Translator, number: int, day: str, publisher: str) -> str:
    return _s(
        tr,
        tr.gettext("Live texts: version {number}, published on {day} by {publisher}."),
        number=number,
        day=day,
        publisher=publisher,
    )


def locale_line(tr: Translator, locale: str, translated: int, pending: int, fuzzy: int) -> str:
    return _s(
        tr,
        tr.gettext("{locale}: {translated} translated, {pending} pending, {fuzzy} fuzzy"),
        locale=locale,
        translated=translated,
        pending=pending,
        fuzzy=fuzzy,
    )


def has_draft(tr: Translator) -> str:
    return tr.gettext("You have a draft: Preview shows it, Publish makes it live.")


def no_draft(tr: Translator) -> str:
    return tr.gettext("You have no draft. Download the texts, edit them, then Upload.")


def discard_label(tr: Translator) -> str:
    return tr.gettext("Discard my draft")


def discard_ask(tr: Translator) -> str:
    return tr.gettext(
        "Discard your draft? The live texts stay as they are; what you uploaded since the "
        "last publish is lost."
    )


def discard_now_label(tr: Translator) -> str:
    return tr.gettext("Yes, discard it")


def discarded(tr: Translator) -> str:
    return tr.gettext("Your draft was discarded. The live texts did not change.")


def discard_hint(tr: Translator) -> str:
    return tr.gettext(
        "To start again from the live texts, discard your draft: /texts, then Discard my draft."
    )


def download_label(tr: Translator) -> str:
    return tr.gettext("Download")


def upload_label(tr: Translator) -> str:
    return tr.gettext("Upload")


def preview_label(tr: Translator) -> str:
    return tr.gettext("Preview")


def publish_label(tr: Translator) -> str:
    return tr.gettext("Publish")


def history_label(tr: Translator) -> str:
    return tr.gettext("History")


def map_label(tr: Translator) -> str:
    return tr.gettext("Map")


def download_caption(tr: Translator, number: int) -> str:
    return _s(
        tr,
        tr.gettext(
            "Texts of version {number}: one .po per language, the .pot and the flow files. "
            "Edit them and send them back here."
        ),
        number=number,
    )


def upload_prompt(tr: Translator) -> str:
    return tr.gettext(
        "Send a .po catalog, a flow .yaml file or a .zip of them (at most 2 MB) as a file."
    )


def upload_refused(tr: Translator, reason: str) -> str:
    return _s(tr, tr.gettext("Not added to your draft, nothing changed: {reason}"), reason=reason)


def too_large(tr: Translator, file: str) -> str:
    return _s(tr, tr.gettext("{file} is larger than 2 MB."), file=file)


def unknown_type(tr: Translator, file: str) -> str:
    return _s(
        tr,
        tr.gettext("{file} is not a .po catalog, a flow .yaml file or a .zip of them."),
        file=file,
    )


def po_syntax(tr: Translator, file: str, line: int, detail: str) -> str:
    return _s(
        tr,
        tr.gettext("{file}, line {line}: not a valid PO file ({detail})."),
        file=file,
        line=line,
        detail=detail,
    )


def unknown_locale(tr: Translator, file: str, locale: str) -> str:
    return _s(
        tr,
        tr.gettext("{file}: the language {locale} in its header is not one the bot knows."),
        file=file,
        locale=locale,
    )


def yaml_unsafe(tr: Translator, file: str, line: int) -> str:
    return _s(
        tr,
        tr.gettext("{file}, line {line}: YAML tags, anchors and aliases are not allowed."),
        file=file,
        line=line,
    )


def zip_unsafe(tr: Translator, file: str) -> str:
    return _s(
        tr,
        tr.gettext("{file}: the zip holds folders, links or paths that are not allowed."),
        file=file,
    )


def zip_too_much(tr: Translator, file: str) -> str:
    return _s(
        tr,
        tr.gettext("{file}: the zip holds too many files or unpacks to too much."),
        file=file,
    )


def file_unusable(tr: Translator, detail: str) -> str:
    return _s(tr, tr.gettext("this file cannot be used: {detail}"), detail=detail)


def added(tr: Translator, file: str) -> str:
    return _s(tr, tr.gettext("{file} is in your draft."), file=file)


def merged_note(tr: Translator, base: int, live: int) -> str:
    return _s(
        tr,
        tr.gettext(
            "It was made from version {base}; the changes published since (version {live} is "
            "live) are kept."
        ),
        base=base,
        live=live,
    )


def failed(tr: Translator, count: int) -> str:
    return _s(
        tr,
        tr.gettext(
            "Not added to your draft, nothing changed: with it the texts would fail {count} "
            "check(s). Fix them and send the file again:"
        ),
        count=count,
    )


def unreadable_set(tr: Translator, detail: str) -> str:
    return _s(
        tr,
        tr.gettext("Not added to your draft, nothing changed: the texts cannot be read: {detail}"),
        detail=detail,
    )


def placeholders_differ(tr: Translator) -> str:
    return tr.gettext("the placeholders in braces differ from the English")


def conflicted(tr: Translator, base: int, live: int) -> str:
    return _s(
        tr,
        tr.gettext(
            "Refused, nothing changed: your file was made from version {base}, and since then "
            "(version {live} is live) these entries were changed differently. Download the "
            "live texts and make your change there:"
        ),
        base=base,
        live=live,
    )


def warnings_header(tr: Translator, count: int) -> str:
    return _s(tr, tr.gettext("Warnings ({count}):"), count=count)


def changes_header(tr: Translator) -> str:
    return tr.gettext("Changes compared with the live texts:")


def texts_changed(tr: Translator, locale: str, count: int) -> str:
    return _s(tr, tr.gettext("{locale}: {count} text(s) changed"), locale=locale, count=count)


def became_pending(tr: Translator, locale: str, count: int) -> str:
    return _s(
        tr,
        tr.gettext("{locale}: {count} text(s) will show in English with the pending marker"),
        locale=locale,
        count=count,
    )


def resolved(tr: Translator, locale: str, count: int) -> str:
    return _s(
        tr, tr.gettext("{locale}: {count} text(s) now translated"), locale=locale, count=count
    )


def screens_added(tr: Translator, count: int) -> str:
    return _s(tr, tr.gettext("screens added: {count}"), count=count)


def screens_removed(tr: Translator, count: int) -> str:
    return _s(tr, tr.gettext("screens removed: {count}"), count=count)


def buttons_added(tr: Translator, count: int) -> str:
    return _s(tr, tr.gettext("buttons added: {count}"), count=count)


def buttons_moved(tr: Translator, count: int) -> str:
    return _s(tr, tr.gettext("buttons moved: {count}"), count=count)


def buttons_removed(tr: Translator, count: int) -> str:
    return _s(tr, tr.gettext("buttons removed: {count}"), count=count)


def layout_changed(tr: Translator) -> str:
    return tr.gettext("Members' open screens will say that the menu has changed.")


def layout_kept(tr: Translator) -> str:
    return tr.gettext("Members' open screens keep working.")


def no_changes(tr: Translator) -> str:
    return tr.gettext("No changes.")


def publish_ask(tr: Translator, number: int) -> str:
    return _s(
        tr,
        tr.gettext("Publish your draft as version {number}? Every member sees it within seconds."),
        number=number,
    )


def publish_now_label(tr: Translator) -> str:
    return tr.gettext("Publish now")


def cancel_label(tr: Translator) -> str:
    return tr.gettext("Cancel")


def cancelled(tr: Translator) -> str:
    return tr.gettext("Cancelled, nothing changed.")


def nothing_to_publish(tr: Translator) -> str:
    return tr.gettext("Nothing to publish: your draft is the same as the live texts.")


def published(tr: Translator, number: int) -> str:
    return _s(tr, tr.gettext("Version {number} is live."), number=number)


def went_live(tr: Translator, number: int, publisher: str) -> str:
    return _s(
        tr,
        tr.gettext("Version {number} of the texts went live, published by {publisher}."),
        number=number,
        publisher=publisher,
    )


def pending_caption(tr: Translator, count: int) -> str:
    return _s(
        tr,
        tr.gettext(
            "{count} text(s) in your language show in English until translated. Translate "
            "this file and send it back here."
        ),
        count=count,
    )


def history_header(tr: Translator) -> str:
    return tr.gettext("Published versions, newest first:")


def history_line(tr: Translator, number: int, day: str, publisher: str) -> str:
    return _s(
        tr,
        tr.gettext("Version {number}, {day}, {publisher}"),
        number=number,
        day=day,
        publisher=publisher,
    )


def history_rollback_of(tr: Translator, base: int) -> str:
    return _s(tr, tr.gettext("(the files of version {base} again)"), base=base)


def history_empty(tr: Translator) -> str:
    return tr.gettext("Nothing published yet: members see the shipped texts (version 0).")


def history_damaged(tr: Translator, number: int) -> str:
    return _s(tr, tr.gettext("Version {number}: damaged, not served"), number=number)


def rollback_label(tr: Translator, number: int) -> str:
    return _s(tr, tr.gettext("Roll back to {number}"), number=number)


def rollback_ask(tr: Translator, number: int, new: int) -> str:
    return _s(
        tr,
        tr.gettext(
            "Publish the texts of version {number} again, as version {new}? Every member "
            "sees them within seconds."
        ),
        number=number,
        new=new,
    )


def rollback_now_label(tr: Translator) -> str:
    return tr.gettext("Roll back now")


def stale(tr: Translator) -> str:
    return tr.gettext("This button is out of date. Send /texts again.")


def map_caption(tr: Translator) -> str:
    return tr.gettext("Map of the flows in your draft (or the live texts), in your language.")


def map_needs_graphviz(tr: Translator) -> str:
    return tr.gettext(
        "The map needs Graphviz, which is not installed on the server. The operator can "
        "install it with: apt-get install graphviz"
    )


def map_failed(tr: Translator) -> str:
    return tr.gettext("The map could not be drawn. Try again later.")


def preview_which(tr: Translator) -> str:
    return tr.gettext("Preview your draft in which language?")


def preview_mark(tr: Translator, language: str) -> str:
    return _s(
        tr,
        tr.gettext("👁 PREVIEW in {language}: members do not see this yet."),
        language=language,
    )


def preview_handoff(tr: Translator) -> str:
    return tr.gettext(
        "Here a member would answer four questions and a request would be filed for the "
        "volunteers. In a preview nothing is filed."
    )


def preview_typed(tr: Translator) -> str:
    return tr.gettext("Here a member would type a short answer; the preview goes on without it.")


def end_preview_label(tr: Translator) -> str:
    return tr.gettext("End preview")


def preview_ended(tr: Translator) -> str:
    return tr.gettext("Preview ended.")
