"""DDR ID numbers: random, non-sequential, with a Luhn mod N check character.

Format ``DDR-XXXXX-XXXXX-C``: ten characters drawn uniformly at random from the Crockford base-32 alphabet
(digits and capitals without I, L, O, U, so none is mistaken for another when read aloud or handwritten),
then one check character computed with the Luhn mod N algorithm (N = 32) over those ten. The check catches
every single mistyped character and most transpositions of neighbours. Being random, the number says
nothing about the movement nor the order of registration (32**10, about 10**15, possible numbers).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAYLOAD_LENGTH = 10
PREFIX = "DDR-"


def _check_character(payload: str) -> str:
    n = len(ALPHABET)
    factor = 2
    total = 0
    for char in reversed(payload):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def _random_payload() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))


def new_ddr_id(random_payload: Callable[[], str] = _random_payload) -> str:
    payload = random_payload()
    return f"{PREFIX}{payload[:5]}-{payload[5:]}-{_check_character(payload)}"


def is_valid_ddr_id(value: str) -> bool:
    """Whether ``value`` is well formed and its check character agrees with its payload."""
    if not value.startswith(PREFIX):
        return False
    compact = value[len(PREFIX) :].replace("-", "").upper()
    if len(compact) != PAYLOAD_LENGTH + 1 or any(char not in ALPHABET for char in compact):
        return False
    return _check_character(compact[:-1]) == compact[-1]
