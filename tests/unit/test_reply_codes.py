"""Reply codes: letters only, three while one is free, longer only when all are taken."""

from __future__ import annotations

import itertools

from receiver.outbox.reply_codes import ALPHABET, LENGTH, free_code

ALL_SHORT = {"".join(c) for c in itertools.product(ALPHABET, repeat=LENGTH)}


def test_a_code_is_three_letters_of_the_alphabet_and_never_taken() -> None:
    taken = set(sorted(ALL_SHORT)[:100])
    for _ in range(200):
        code = free_code(taken)
        assert len(code) == LENGTH and set(code) <= set(ALPHABET) and code not in taken
    assert not set(ALPHABET) & set("0123456789BGILOQSZ")


def test_the_last_free_short_code_is_found() -> None:
    last = "KTP"
    assert free_code(ALL_SHORT - {last}) == last


def test_all_short_codes_taken_gives_a_longer_one() -> None:
    code = free_code(ALL_SHORT)
    assert len(code) == LENGTH + 1 and set(code) <= set(ALPHABET)
