from __future__ import annotations

from typing import TypedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.crypto import FieldCipher, Pseudonymizer
from storage.errors import DecryptionError
from storage.keys import RootKeys, add_key

ROOT = RootKeys(keys={1: b"\x01" * 32}, active=1, pseudonym_key_id=1)
OTHER_ROOT = RootKeys(keys={1: b"\x02" * 32}, active=1, pseudonym_key_id=1)
CIPHER = FieldCipher(ROOT)


class Where(TypedDict):
    table: str
    column: str
    row: bytes


WHERE: Where = {"table": "members", "column": "state", "row": b"\xaa" * 32}
PLAINTEXT = b'{"flow":"main","node":"start"}'

HEADER = 3
NONCE = 12
TAG = 16


def test_round_trip() -> None:
    blob = CIPHER.encrypt(PLAINTEXT, **WHERE)
    assert CIPHER.decrypt(blob, **WHERE) == PLAINTEXT
    assert PLAINTEXT not in blob
    assert len(blob) == HEADER + NONCE + len(PLAINTEXT) + TAG


def test_round_trip_empty_plaintext() -> None:
    blob = CIPHER.encrypt(b"", **WHERE)
    assert CIPHER.decrypt(blob, **WHERE) == b""


def test_blob_layout() -> None:
    blob = CIPHER.encrypt(PLAINTEXT, **WHERE)
    assert blob[0] == 1
    assert blob[1:3] == (1).to_bytes(2, "big")
    assert CIPHER.key_id_of(blob) == 1


def test_same_plaintext_encrypts_differently() -> None:
    first = CIPHER.encrypt(PLAINTEXT, **WHERE)
    second = CIPHER.encrypt(PLAINTEXT, **WHERE)
    assert first != second
    assert first[HEADER : HEADER + NONCE] != second[HEADER : HEADER + NONCE]


@pytest.mark.parametrize(
    "position",
    [
        pytest.param(0, id="version"),
        pytest.param(1, id="key-id-high"),
        pytest.param(2, id="key-id-low"),
        pytest.param(HEADER, id="nonce-first"),
        pytest.param(HEADER + NONCE - 1, id="nonce-last"),
        pytest.param(HEADER + NONCE, id="ciphertext-first"),
        pytest.param(-TAG - 1, id="ciphertext-last"),
        pytest.param(-TAG, id="tag-first"),
        pytest.param(-1, id="tag-last"),
    ],
)
def test_tampering_any_part_fails(position: int) -> None:
    blob = bytearray(CIPHER.encrypt(PLAINTEXT, **WHERE))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(bytes(blob), **WHERE)


def test_every_byte_tampered_fails() -> None:
    blob = CIPHER.encrypt(PLAINTEXT, **WHERE)
    for position in range(len(blob)):
        tampered = bytearray(blob)
        tampered[position] ^= 0xFF
        with pytest.raises(DecryptionError):
            CIPHER.decrypt(bytes(tampered), **WHERE)


def test_wrong_root_key_fails() -> None:
    blob = CIPHER.encrypt(PLAINTEXT, **WHERE)
    with pytest.raises(DecryptionError):
        FieldCipher(OTHER_ROOT).decrypt(blob, **WHERE)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(Where(table="members", column="state", row=b"\xbb" * 32), id="other-row"),
        pytest.param(Where(table="members", column="state", row=b""), id="empty-row"),
        pytest.param(
            Where(table="members", column="chat_ref", row=WHERE["row"]), id="other-column"
        ),
        pytest.param(Where(table="referrals", column="state", row=WHERE["row"]), id="other-table"),
    ],
)
def test_moved_ciphertext_fails(target: Where) -> None:
    blob = CIPHER.encrypt(PLAINTEXT, **WHERE)
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, **target)


def test_location_encoding_is_unambiguous() -> None:
    # With a bare separator these two locations would serialise identically.
    blob = CIPHER.encrypt(PLAINTEXT, table="a\x00b", column="c", row=b"r")
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, table="a", column="b\x00c", row=b"r")
    blob = CIPHER.encrypt(PLAINTEXT, table="t", column="c", row=b"x")
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, table="t", column="c\x00x", row=b"")


def test_unknown_key_id_fails() -> None:
    blob = bytearray(CIPHER.encrypt(PLAINTEXT, **WHERE))
    blob[1:3] = (7).to_bytes(2, "big")
    with pytest.raises(DecryptionError, match="unknown key id"):
        CIPHER.decrypt(bytes(blob), **WHERE)


def test_relabelled_key_id_fails_even_if_that_key_exists() -> None:
    rotated = add_key(ROOT)
    cipher = FieldCipher(rotated)
    blob = bytearray(cipher.encrypt(PLAINTEXT, **WHERE))
    assert cipher.key_id_of(bytes(blob)) == 2
    blob[1:3] = (1).to_bytes(2, "big")
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), **WHERE)


@pytest.mark.parametrize("length", [0, 1, 3, HEADER + NONCE, HEADER + NONCE + TAG - 1])
def test_truncated_blob_fails(length: int) -> None:
    blob = CIPHER.encrypt(b"", **WHERE)
    assert len(blob) == HEADER + NONCE + TAG
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob[:length], **WHERE)


def test_truncated_ciphertext_fails() -> None:
    blob = CIPHER.encrypt(PLAINTEXT, **WHERE)
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob[:-1], **WHERE)
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob + b"\x00", **WHERE)


def test_key_id_of_rejects_garbage() -> None:
    with pytest.raises(DecryptionError):
        CIPHER.key_id_of(b"")
    with pytest.raises(DecryptionError):
        CIPHER.key_id_of(b"\x02\x00\x01")


def test_rotation() -> None:
    old_blob = CIPHER.encrypt(PLAINTEXT, **WHERE)
    rotated = FieldCipher(add_key(ROOT))
    assert rotated.decrypt(old_blob, **WHERE) == PLAINTEXT
    new_blob = rotated.encrypt(PLAINTEXT, **WHERE)
    assert rotated.key_id_of(new_blob) == 2
    with pytest.raises(DecryptionError, match="unknown key id"):
        CIPHER.decrypt(new_blob, **WHERE)
    moved = rotated.reencrypt(old_blob, **WHERE)
    assert rotated.key_id_of(moved) == 2
    assert rotated.decrypt(moved, **WHERE) == PLAINTEXT


def test_reencrypt_verifies_before_sealing() -> None:
    rotated = FieldCipher(add_key(ROOT))
    blob = bytearray(CIPHER.encrypt(PLAINTEXT, **WHERE))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        rotated.reencrypt(bytes(blob), **WHERE)
    good = CIPHER.encrypt(PLAINTEXT, **WHERE)
    with pytest.raises(DecryptionError):
        rotated.reencrypt(good, table="members", column="state", row=b"elsewhere")


def test_pseudonym_is_deterministic_and_32_bytes() -> None:
    pseudonyms = Pseudonymizer(ROOT)
    key = pseudonyms.member_key(123456789)
    assert len(key) == 32
    assert key == pseudonyms.member_key(123456789)
    assert key == Pseudonymizer(ROOT).member_key(123456789)


def test_pseudonym_differs_per_id_and_per_root() -> None:
    pseudonyms = Pseudonymizer(ROOT)
    assert pseudonyms.member_key(1) != pseudonyms.member_key(2)
    assert pseudonyms.member_key(1) != Pseudonymizer(OTHER_ROOT).member_key(1)


def test_pseudonym_is_stable_after_rotation() -> None:
    rotated = add_key(add_key(ROOT))
    assert Pseudonymizer(rotated).member_key(42) == Pseudonymizer(ROOT).member_key(42)


def test_pseudonym_and_field_keys_are_separated() -> None:
    pseudonyms = Pseudonymizer(ROOT)
    key = pseudonyms.member_key(42)
    assert key != ROOT.keys[1]
    assert ROOT.keys[1] not in key


def test_pseudonym_does_not_contain_the_id() -> None:
    telegram_id = 5_123_456_789
    key = Pseudonymizer(ROOT).member_key(telegram_id)
    assert str(telegram_id).encode() not in key
    assert str(telegram_id) not in key.hex()
    assert telegram_id.to_bytes(8, "big") not in key
    assert telegram_id.to_bytes(8, "little") not in key


def test_pseudonym_rejects_non_int() -> None:
    pseudonyms = Pseudonymizer(ROOT)
    with pytest.raises(TypeError):
        pseudonyms.member_key("42")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pseudonyms.member_key(True)


def test_label() -> None:
    pseudonyms = Pseudonymizer(ROOT)
    key = pseudonyms.member_key(42)
    label = pseudonyms.label(key)
    assert len(label) == 8
    assert label == pseudonyms.label(key)
    assert label not in key.hex()
    assert label != pseudonyms.label(pseudonyms.member_key(43))
    assert label != Pseudonymizer(OTHER_ROOT).label(key)


_location = st.text(max_size=40)


@settings(max_examples=200)
@given(plaintext=st.binary(max_size=512), table=_location, column=_location, row=st.binary())
def test_property_round_trip(plaintext: bytes, table: str, column: str, row: bytes) -> None:
    blob = CIPHER.encrypt(plaintext, table=table, column=column, row=row)
    assert CIPHER.decrypt(blob, table=table, column=column, row=row) == plaintext


@settings(max_examples=300)
@given(plaintext=st.binary(max_size=128), row=st.binary(max_size=32), data=st.data())
def test_property_any_single_bit_flip_fails(
    plaintext: bytes, row: bytes, data: st.DataObject
) -> None:
    blob = bytearray(CIPHER.encrypt(plaintext, table="t", column="c", row=row))
    bit = data.draw(st.integers(min_value=0, max_value=len(blob) * 8 - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(bytes(blob), table="t", column="c", row=row)


@given(
    first=st.tuples(_location, _location, st.binary(max_size=16)),
    second=st.tuples(_location, _location, st.binary(max_size=16)),
)
def test_property_other_location_fails(
    first: tuple[str, str, bytes], second: tuple[str, str, bytes]
) -> None:
    blob = CIPHER.encrypt(PLAINTEXT, table=first[0], column=first[1], row=first[2])
    if first == second:
        return
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, table=second[0], column=second[1], row=second[2])
