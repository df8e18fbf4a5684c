"""Phone numbers: parsed with `phonenumbers`, stored in E.164, shown nationally."""

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

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


E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def national_digits(e164: str) -> str:
    """The number without its country code (`9876543210`): what staff start typing.

    Country codes are prefix-free, so the split needs no parse (a parse costs ~40 µs, which a
    million-patient import pays once a patient); a leading zero (Italy) stays, as staff type it.
    """
    for size in (1, 2, 3):
        if int(e164[1 : 1 + size]) in COUNTRY_CODE_TO_REGION_CODE:
            return e164[1 + size :]
    return e164[1:]


def search_forms(value: str) -> tuple[str, str] | None:
    """(E.164, national digits) of a stored phone, the forms search finds it by; None if none.

    A number already written in E.164 (as clinic stores them and exports mostly write them) is
    taken as written: parsing and validating it again cost ~100 µs, most of a first import's
    time per patient. Any other form is parsed in the clinic's region."""
    value = (value or "").strip()
    e164 = value if E164.fullmatch(value) else to_e164(value)
    return (e164, national_digits(e164)) if e164 else None


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
