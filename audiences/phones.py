"""Phone numbers: E.164 normalisation with a default country, and the list of countries."""

from __future__ import annotations

import unicodedata
from functools import cache

import phonenumbers

from .countries import NAMES

# Longest text quoted back in a rejection reason.
QUOTE_MAX = 40


class InvalidPhone(ValueError):
    """The text is not a valid phone number; str() is the reason, in plain words."""


def normalize(text: str, country: str) -> str:
    """The E.164 form of `text` (+14155550123). Numbers written without a country code are
    read as numbers of `country` (ISO 3166 code). Raises InvalidPhone with the reason."""
    text = text.strip()
    if not text:
        raise InvalidPhone("no phone number")
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        quoted = text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1] + "…"
        where = "" if text.startswith("+") else f" for {country}"
        raise InvalidPhone(f"not a valid phone number{where}: {quoted}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_name(code: str) -> str:
    return NAMES.get(code, code)


def _sort_key(label: str) -> str:
    # "Åland Islands" sorts with A, "Réunion" with R.
    return unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().casefold()


@cache
def country_choices() -> list[tuple[str, str]]:
    """(code, "United States (US, +1)") for every region phonenumbers supports, by name."""
    choices = [
        (
            code,
            f"{country_name(code)} ({code}, +{phonenumbers.country_code_for_region(code)})",
        )
        for code in phonenumbers.SUPPORTED_REGIONS
    ]
    return sorted(choices, key=lambda choice: _sort_key(choice[1]))


def is_supported_country(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS
