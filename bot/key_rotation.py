"""``python -m bot admin rotate-key``: replace the root key, and everything derived from it.

Two commands, each safe to run again after any interruption:

``rotate-key`` (the bot may run)
    Adds a new root key, the next id, as the last (active) line of the key
    file, written whole or not at all (mode 0600); with ``ROOT_KEY``, or a key
    file it cannot write, the new key set goes to ``--key-out FILE`` for the
    operator to put in place. It then waits until the running bot holds the
    key (the bot re-reads the key file every few seconds; with ``ROOT_KEY`` it
    needs a restart), and re-encrypts every encrypted field under it in small
    batches. Killed, it is run again: it continues, skipping fields already done.

``rotate-key --finish`` (the bot stopped: a minute's downtime)
    Re-encrypts what the bot wrote meanwhile, checks by scanning that no field
    uses an old key, rewrites the key file with the new key alone plus the old
    pseudonym pepper as a ``pepper:`` line, then moves pseudonyms, labels,
    invite hashes, row MACs, content MACs and the audit chain to the new key in
    one transaction (``storage.rotation.switch``). Interrupted between the two,
    the bot refuses to start and says to run ``--finish`` again, which does the
    rest: the new key file holds both generations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.admin import AdminError
from bot.installation import Purpose, RunningError, exclusive_lock, prepare
from bot.services import open_storage
from bot.settings import Settings
from storage.crypto import FieldCipher, Pseudonymizer, pepper_of
from storage.errors import KeyFileError, StorageError
from storage.keys import RootKeys, add_key, load_root_keys, write_root_key_file
from storage.sqlite import rotation
from storage.sqlite.database import Database
from storage.sqlite.key_check import stored_check

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    key_out: Path | None = None
    batch: int = 200
    wait: float = 60.0
    """Seconds to wait for the running bot to take on the new key."""
    pause: float = 0.05
    """Seconds between batches while the bot runs: its writes get the lock in between."""
    drop_unreadable: bool = False
    """``--finish`` clears fields that open with no key instead of refusing."""


def _ids(keys: RootKeys) -> str:
    return ", ".join(str(key_id) for key_id in sorted(keys.keys))


def _write(settings: Settings, keys: RootKeys, options: Options) -> Path | None:
    """Put ``keys`` in the key file, or in ``--key-out`` (then returns that path)."""
    if options.key_out is not None:
        try:
            write_root_key_file(options.key_out, keys)
        except KeyFileError as error:
            raise AdminError(str(error)) from None
        except OSError as error:
            raise AdminError(f"cannot write {options.key_out} ({error.strerror})") from None
        return options.key_out
    if settings.root_key is not None:
        raise AdminError(
            "the root key comes from ROOT_KEY, which rotate-key cannot change: add --key-out FILE "
            "(a new file) to receive the new key set, then put it in ROOT_KEY"
        )
    try:
        write_root_key_file(settings.key_file, keys, replace=True)
    except OSError as error:
        raise AdminError(
            f"cannot write the key file {settings.key_file} ({error.strerror}); if it is "
            "read-only (a secret), add --key-out FILE and put that file in its place"
        ) from None
    return None


async def _until_the_bot_holds(
    settings: Settings, db: Database, target: int, options: Options, say: Say
) -> bool:
    """Allow writing under ``target`` only once no process could fail to read it.

    True if a bot is running (and now holds the key).
    """
    try:
        # No bot runs, and none can start while this is held.
        with exclusive_lock(settings):
            await rotation.start_reencrypting(db, bot_running=False)
            return False
    except RunningError:
        pass
    say(f"waiting for the running bot to take on root key {target} (it looks every few seconds)")
    deadline = time.monotonic() + options.wait
    while not await rotation.start_reencrypting(db, bot_running=True):
        if time.monotonic() > deadline:
            raise AdminError(
                f"the running bot has not taken on root key {target} within {options.wait:g} s "
                "(with ROOT_KEY or a key file it cannot read, restart it with the new keys); "
                "nothing was re-encrypted: run rotate-key again once it has"
            )
        await asyncio.sleep(1)
    return True


def _progress(say: Say) -> rotation.Report:
    def report(table: str, done: int, seen: int) -> None:
        say(f"  {table}: {done} re-encrypted, {seen} rows checked")

    return report


async def _reencrypt(
    db: Database, cipher: FieldCipher, options: Options, say: Say, *, bot_running: bool
) -> int:
    """Re-encrypt until nothing readable is left under an old key; the number done."""
    total = 0
    # A bot write under an old key that raced the pass is caught by the next one.
    for _ in range(3):
        result = await rotation.reencrypt(
            db,
            cipher,
            batch=options.batch,
            pause=options.pause if bot_running else 0.0,
            report=_progress(say),
        )
        done = sum(result.done.values())
        total += done
        if not done:
            break
    return total


async def rotate(settings: Settings, options: Options, say: Say) -> None:
    storage = await open_storage(settings)
    db = storage.database
    try:
        keys = storage.keys
        found = await rotation.pending(db)
        if found is None or (found.phase == "added" and found.target not in keys.keys):
            # A key added by an interrupted run and never used is simply left unused.
            keys = add_key(keys)
            written = _write(settings, keys, options)
            await rotation.begin(db, keys.active)
            if written is not None:
                say(
                    f"wrote root keys {_ids(keys)} to {written} (readable by you only); key "
                    f"{keys.active} is new. Put that file's contents in ROOT_KEY (or in place of "
                    "the key file), restart the bot with it, delete the file, then run "
                    "'python -m bot admin rotate-key' again to re-encrypt."
                )
                return
            say(f"added root key {keys.active} to {settings.key_file}")
            found = rotation.Rotation(keys.active, "added", bot_ready=False)
        if keys.active != found.target:
            raise AdminError(
                f"root key {found.target} is being rotated to, but the last key line is "
                f"{keys.active}: use the key set rotate-key wrote"
            )
        running = await _until_the_bot_holds(settings, db, found.target, options, say)
        cipher = FieldCipher(keys)
        done = await _reencrypt(db, cipher, options, say, bot_running=running)
        left = await rotation.outdated(db, cipher)
        unreadable = sum(sum(per_key.values()) for per_key in left.values())
    finally:
        await db.close()
    say(f"re-encrypted {done} field(s) under root key {found.target}.")
    if unreadable:
        say(
            f"{unreadable} field(s) open with no key (edited outside the bot?): "
            "'rotate-key --finish' will say how to clear them."
        )
    say(
        "Last step, with a minute's downtime: stop the bot, run "
        "'python -m bot admin rotate-key --finish', start the bot again."
    )


async def _readable_or_refuse(
    db: Database, cipher: FieldCipher, options: Options, say: Say
) -> None:
    """Every field must open before the old keys go (and before the switch re-seals them)."""
    bad = await rotation.unreadable(db, cipher)
    if bad.total and options.drop_unreadable:
        cleared = bad.total - len(bad.accounts)
        bad = await rotation.drop_unreadable(db, cipher)
        say(f"cleared {cleared} field(s) that opened with no key")
    if not bad.total:
        return
    accounts = (
        f"account(s) {', '.join(bad.accounts)} hold a chat reference that opens with no key: "
        "remove them with 'python -m bot admin remove <label>' (and invite them again)"
    )
    if bad.total == len(bad.accounts):
        raise AdminError(f"{accounts}, then run --finish again")
    tables = ", ".join(sorted(bad.counts))
    raise AdminError(
        f"{bad.total} encrypted field(s) in {tables} open with none of the root keys (edited "
        "outside the bot?), so the old keys cannot go yet: add --drop-unreadable to clear them "
        "(a member's saved place is reset, a request loses its chat reference, relay copies "
        "are forgotten)" + (f"; {accounts}" if bad.accounts else "")
    )


async def finish(settings: Settings, options: Options, today: date, say: Say) -> None:
    prepare(settings, Purpose.ADMIN)
    keys = load_root_keys(path=settings.key_file, env_value=settings.root_key)
    # RunningError while the bot runs: the switch changes what it computes.
    with exclusive_lock(settings):
        db = await Database.open(settings.database_file)
        try:
            await _finish(settings, db, keys, options, today, say)
        finally:
            await db.close()


async def _finish(
    settings: Settings, db: Database, keys: RootKeys, options: Options, today: date, say: Say
) -> None:
    found = await rotation.pending(db)
    if found is None:
        raise AdminError("no key rotation is under way: start one with 'rotate-key'")
    stored = await stored_check(db)
    current = Pseudonymizer(keys)
    if stored == current.check_value():
        if found.target not in keys.keys or keys.active != found.target:
            raise AdminError(
                f"the database is being rotated to root key {found.target}, which is not the "
                "last line of these keys: use the key set rotate-key wrote"
            )
        if keys.pseudonym_key_id == found.target:
            raise AdminError(f"root key {found.target} is the only key: nothing to retire")
        await rotation.start_reencrypting(db, bot_running=False)
        cipher = FieldCipher(keys)
        await _reencrypt(db, cipher, options, say, bot_running=False)
        await _readable_or_refuse(db, cipher, options, say)
        try:
            rotation.require_all_under_active(await rotation.outdated(db, cipher))
        except StorageError as error:
            raise AdminError(str(error)) from None
        retired = RootKeys(
            keys={found.target: keys.keys[found.target]},
            active=found.target,
            pseudonym_key_id=found.target,
            peppers=(*keys.peppers, pepper_of(keys.keys[keys.pseudonym_key_id])),
        )
        written = _write(settings, retired, options)
        removed = ", ".join(str(k) for k in sorted(keys.keys) if k != found.target)
        if written is not None:
            say(
                f"every field is under root key {found.target}. Wrote the new key set (key "
                f"{found.target} and the old pseudonym pepper; key(s) {removed} gone) to "
                f"{written}: put its contents in ROOT_KEY (or in place of the key file), "
                "delete the file, and run 'rotate-key --finish' again with it."
            )
            return
        say(f"removed root key(s) {removed} from {settings.key_file}")
        keys, current = retired, Pseudonymizer(retired)
    previous = current.previous()
    if previous is None or stored != previous.check_value():
        raise AdminError(
            "these root keys belong neither to this database nor to its rotation: "
            "use the key set rotate-key wrote"
        )
    switched = await rotation.switch(db, previous, current, FieldCipher(keys), today=today)
    say(
        f"rotation finished: root key {keys.active} alone remains. Re-keyed {switched.members} "
        f"member(s), {switched.accounts} account(s) (each has a new label: see 'admin list'), "
        f"{switched.invites} invite(s); {switched.content_signed} content row(s) signed again."
    )
    if switched.failing_rows or switched.content_failing:
        say(
            f"{switched.failing_rows + switched.content_failing} row(s) failed their check "
            "before and were not signed again: they still count as edited outside the bot."
        )
    chain = switched.audit
    broken = (
        f"; it was broken at entry {chain.broken_at}, which stays as it was"
        if chain.broken_at is not None
        else ""
    )
    say(
        f"audit log re-chained under the new key ({chain.entries} entries{broken}). Old head "
        f"{chain.old_head}, new head {chain.new_head}: note the new one down elsewhere."
    )
    say(
        "Start the bot again. Backups made before now open only with the old key file: "
        "destroy them, or keep each with its key."
    )
