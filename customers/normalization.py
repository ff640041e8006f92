"""Canonical forms of identity values, so one address or number is stored one way."""

import re

import phonenumbers

from customers.models import IdentityKind


class InvalidIdentityValue(ValueError):
    pass


# The longest address SMTP can carry (RFC 5321's 256-character path less its brackets).
MAX_EMAIL_LENGTH = 254
# Identity.value's column.
MAX_VALUE_LENGTH = 320
_WHITESPACE = re.compile(r"\s")


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    local, separator, domain = email.rpartition("@")
    if (
        not separator
        or not local
        or "." not in domain
        or _WHITESPACE.search(email)
        or len(email) > MAX_EMAIL_LENGTH
    ):
        raise InvalidIdentityValue(f"not an email address: {value[:100]!r}")
    return email


def normalize_phone(value: str, *, default_region: str | None = None) -> str:
    """E.164 form. Without a region, a number must be international: a leading +, 00 (the
    international call prefix) or digits starting with the country code (as WhatsApp
    sends them); one leading 0 marks a national number, whose country is unknown."""
    text = value.strip()
    if text and text[0] != "+" and default_region is None:
        if text.startswith("00"):
            text = text[2:]
        elif text.startswith("0"):
            raise InvalidIdentityValue(f"a national number without its country: {value!r}")
        text = "+" + text
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidIdentityValue(f"not a phone number: {value!r}") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentityValue(f"not a valid phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity_value(kind: str, value: str) -> str:
    if kind == IdentityKind.EMAIL:
        return normalize_email(value)
    if kind == IdentityKind.PHONE:
        return normalize_phone(value)
    normalized = str(value).strip()
    if not normalized:
        raise InvalidIdentityValue(f"empty {kind} identity")
    if len(normalized) > MAX_VALUE_LENGTH:
        raise InvalidIdentityValue(f"{kind} identity longer than {MAX_VALUE_LENGTH} characters")
    return normalized
