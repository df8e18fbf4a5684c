"""Phone numbers: parsed with `phonenumbers`, stored in E.164, shown nationally."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

INVALID = (
    "Enter a phone number with its digits, for example 98765 43210 or +44 20 7946 0958 "
    "(letters are not part of a phone number)."
)


def parse(value: str) -> phonenumbers.PhoneNumber | None:
    """The number `value` spells (in the clinic's region unless it starts with +), or None."""
    value = (value or "").strip()
    if not value or any(ch.isalpha() for ch in value):
        return None
    try:
        number = phonenumbers.parse(value, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def to_e164(value: str) -> str | None:
    """`+919876543210` for any way of writing that number; None when it is not a phone number."""
    number = parse(value)
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None
    )


def national_digits(e164: str) -> str:
    """The number without its country code (`9876543210`): what staff start typing."""
    return str(phonenumbers.parse(e164).national_number)


def normalise(value: str) -> str:
    """The E.164 form of a phone typed by staff; raises ValidationError when it is not one."""
    value = (value or "").strip()
    if not value:
        return ""
    e164 = to_e164(value)
    if e164 is None:
        raise ValidationError(INVALID, code="phone")
    return e164


def display(value: str) -> str:
    """A stored number as staff write it: nationally in the clinic's region, else with +country."""
    number = parse(value)
    if number is None:
        return value or ""
    region = phonenumbers.region_code_for_number(number)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == settings.PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
