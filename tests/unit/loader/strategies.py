"""Hypothesis strategies over DynamoDB's type system: key values in every spelling DynamoDB accepts, and items."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

MAX_DIGITS = 38
Item = dict[str, Any]


@st.composite
def number_values(draw: st.DrawFn) -> tuple[int, str, int]:
    """A number DynamoDB accepts: (sign, significant digits without trailing zeros, exponent of the last digit)."""
    size = draw(st.integers(1, MAX_DIGITS))
    digits = str(draw(st.integers(10 ** (size - 1), 10**size - 1))).rstrip("0")
    # the first significant digit's exponent (exponent + len(digits) - 1) must lie in -130..125
    exponent = draw(st.integers(-130 - len(digits) + 1, 125 - len(digits) + 1))
    return draw(st.sampled_from((1, -1))), digits, exponent


@st.composite
def spellings(draw: st.DrawFn, value: tuple[int, str, int]) -> str:
    """One of the many texts for the same number: plain, with a point, with an exponent, zeros before and after."""
    sign, digits, exponent = value
    sign_text = "-" if sign < 0 else draw(st.sampled_from(("", "+")))
    mantissa = digits + "0" * draw(st.integers(0, 3))  # trailing zeros: the exponent shrinks by as many
    exponent -= len(mantissa) - len(digits)
    fraction = draw(st.integers(0, len(mantissa) + 2))  # digits after the point: the exponent grows by as many
    mantissa = mantissa.rjust(fraction + 1, "0")
    exponent += fraction
    text = mantissa[: len(mantissa) - fraction] + ("." + mantissa[len(mantissa) - fraction :] if fraction else "")
    text = "0" * draw(st.integers(0, 2)) + text
    if exponent == 0 and draw(st.booleans()):
        return sign_text + text
    marker = draw(st.sampled_from(("E", "e")))
    return f"{sign_text}{text}{marker}{'+' if exponent >= 0 and draw(st.booleans()) else ''}{exponent}"


def value_of(text: str) -> Decimal:
    """The number's exact value (Decimal parses exactly; only arithmetic would round)."""
    return Decimal(text)


numbers = number_values().flatmap(spellings)
zero_spellings = st.sampled_from(["0", "-0", "+0", "0.0", "-0.000", "0E+5", "-0e-9", "000", ".0", "0."])


@st.composite
def binary_spellings(draw: st.DrawFn, data: bytes) -> str:
    """Padded standard base64 of `data`, sometimes with non-zero unused bits in the last character (same bytes)."""
    text = base64.b64encode(data).decode()
    padding = len(text) - len(text.rstrip("="))
    if padding and draw(st.booleans()):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        last = alphabet.index(text[-padding - 1])
        spare = (1 << (2 * padding)) - 1  # bits that carry no data
        text = text[: -padding - 1] + alphabet[last | draw(st.integers(0, spare))] + "=" * padding
    return text


key_strings = st.text(min_size=1, max_size=12)
key_bytes = st.binary(min_size=1, max_size=12)


def key_value(kind: str) -> st.SearchStrategy[Item]:
    """A key attribute value of the given type, as export JSON."""
    if kind == "S":
        return key_strings.map(lambda text: {"S": text})
    if kind == "N":
        return st.one_of(numbers, zero_spellings).map(lambda text: {"N": text})
    return key_bytes.flatmap(binary_spellings).map(lambda text: {"B": text})


scalar_values = st.one_of(
    st.text(max_size=8).map(lambda t: {"S": t}),
    numbers.map(lambda t: {"N": t}),
    st.binary(max_size=8).map(lambda b: {"B": base64.b64encode(b).decode()}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=5), min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(-999, 999), min_size=1, max_size=3, unique=True).map(lambda v: {"NS": [str(n) for n in v]}),
    st.lists(st.binary(min_size=1, max_size=4), min_size=1, max_size=3, unique=True).map(
        lambda v: {"BS": [base64.b64encode(b).decode() for b in v]}
    ),
)
attribute_values = st.recursive(
    scalar_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=6,
)
other_attributes = st.dictionaries(
    st.text(min_size=1, max_size=6).filter(lambda name: name not in ("pk", "sk")), attribute_values, max_size=4
)
