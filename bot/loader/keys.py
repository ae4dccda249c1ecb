"""Item keys as DynamoDB compares them, so one batch never holds two requests for what DynamoDB sees as one key.

DynamoDB compares a number by its value with up to 38 significant digits (`1E+2` is `100`, `1.50` is `1.5`,
`-0` is `0`) and refuses numbers with more digits or outside 1E-130..9.9999999999999999999999999999999999999E+125;
it compares binary by its bytes. The canonical forms here are exact (never a rounding `Decimal` context): two
numbers get one form only when DynamoDB would store one value.

Binary keys: an export writes standard, padded base64 (one spelling per value), but DynamoDB decodes whatever it is
sent, so `QQ==` and `QR==` (different text, the same byte) are one key to it. Keys are therefore compared by their
decoded bytes; text that is not padded standard base64 is refused (DynamoDB never exports it).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

MAX_DIGITS = 38
MIN_EXPONENT, MAX_EXPONENT = -130, 125  # of the first significant digit: 1E-130 .. 9.99…E+125
_NUMBER = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", re.ASCII)
_EXPONENT_DIGITS = 4000  # an exponent of more digits is out of range for any line (and int() accepts 4,300)


class KeyValueRefused(ValueError):
    """A key attribute DynamoDB would refuse (or that is not a key type): the message says which and why."""


def canonical_number(text: str) -> str:
    """The number's one spelling for its value: an integer as plain digits, anything else as `digitsE-exponent`.

    Raises KeyValueRefused for text that is not a number or that DynamoDB refuses (digits, magnitude).
    """
    if len(text) <= MAX_DIGITS and text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1):
        return text  # the common case: a plain integer already is its canonical form
    match = _NUMBER.fullmatch(text)
    if match is None or not (match.group(2) or match.group(3)):
        raise KeyValueRefused(f"{text!r} is not a number")
    sign, whole, fraction, exponent_text = match.group(1), match.group(2), match.group(3) or "", match.group(4)
    digits = (whole + fraction).lstrip("0")
    significant = digits.rstrip("0")
    if not significant:
        return "0"  # 0, -0, 0.000, 0E+5: one value
    exponent = len(digits) - len(significant) - len(fraction)
    if exponent_text is not None:
        magnitude = exponent_text.lstrip("+-").lstrip("0")
        if len(magnitude) > _EXPONENT_DIGITS:
            raise KeyValueRefused(f"{text[:60]!r} is outside DynamoDB's range (1E-130 to 9.99…E+125)")
        exponent += int(exponent_text[0] + magnitude) if exponent_text[0] == "-" and magnitude else int(magnitude or 0)
    if len(significant) > MAX_DIGITS:
        raise KeyValueRefused(
            f"{text!r} has {len(significant)} significant digits; DynamoDB keeps at most {MAX_DIGITS}"
        )
    if not MIN_EXPONENT <= exponent + len(significant) - 1 <= MAX_EXPONENT:
        raise KeyValueRefused(f"{text!r} is outside DynamoDB's range (1E-130 to 9.99…E+125)")
    prefix = "-" if sign == "-" else ""
    if exponent >= 0:
        return prefix + significant + "0" * exponent
    return f"{prefix}{significant}E{exponent}"


def canonical_binary(text: str) -> bytes:
    """The bytes a base64 `B` key stands for; raises KeyValueRefused when it is not padded standard base64."""
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise KeyValueRefused(f"{text[:40]!r} is not base64 ({error})") from None


def comparable(name: str, kind: str, text: str) -> Hashable:
    """One key attribute as DynamoDB compares it: S as its text, N as ("N", canonical text), B as its bytes.

    The three forms never equal each other, so an S "1" and an N "1" stay two keys (DynamoDB refuses the one that
    does not match the table's schema, rather than the loader dropping it). Raises KeyValueRefused naming `name`.
    """
    try:
        if kind == "S":
            return text
        if kind == "N":
            return ("N", canonical_number(text))
        if kind == "B":
            return canonical_binary(text)
    except KeyValueRefused as error:
        raise KeyValueRefused(f"the key attribute {name}: {error}") from None
    raise KeyValueRefused(f"the key attribute {name} is {kind!r:.20}, not a string, number or binary")


def key_part(name: str, value: Any) -> Hashable:
    """One key attribute value as written in the export (`{"N": "1.50"}`) in comparable form."""
    if type(value) is not dict or len(value) != 1:
        raise KeyValueRefused(f"the key attribute {name} is not one DynamoDB attribute value: {value!r:.80}")
    ((kind, inner),) = value.items()
    if type(inner) is not str:
        raise KeyValueRefused(f"the key attribute {name} is {kind!r:.20}, not a string, number or binary")
    return comparable(name, kind, inner)


def item_key(image: Mapping[str, Any], key_names: Sequence[str]) -> Hashable:
    """The key of an item (or of a `Keys` object) as DynamoDB compares keys; KeyError names a missing attribute."""
    return tuple(key_part(name, image[name]) for name in key_names)
