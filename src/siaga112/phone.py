"""Caller numbers in E.164, parsed as Indonesian when they carry no country code."""
from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str) -> str:
    """E.164 form of `raw`; ValueError naming the problem when it is not a dialable number."""
    text = raw.strip()
    if not text:
        raise ValueError("phone number is empty")
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str | None) -> str | None:
    """Enough of a number to recognise a repeat caller, not enough to call them."""
    if not e164:
        return e164
    return e164[:5] + "*" * max(len(e164) - 8, 0) + e164[-3:]
