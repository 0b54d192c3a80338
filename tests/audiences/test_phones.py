"""Phone number normalisation and the country list (SPEC §4)."""

from __future__ import annotations

import phonenumbers
import pytest

from audiences.countries import NAMES
from audiences.phones import InvalidPhone, country_choices, normalize


@pytest.mark.parametrize(
    ("text", "country", "e164"),
    [
        ("(415) 555-0123", "US", "+14155550123"),
        (" +1 415 555 0123 ", "GB", "+14155550123"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0033 6 12 34 56 78", "GB", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
    ],
)
def test_it_normalises_to_e164(text, country, e164):
    assert normalize(text, country) == e164


@pytest.mark.parametrize(
    ("text", "country", "reason"),
    [
        ("", "US", "no phone number"),
        ("   ", "US", "no phone number"),
        ("12", "US", "not a valid phone number for US: 12"),
        ("4155550123", "GB", "not a valid phone number for GB: 4155550123"),
        ("+44 7700 900123", "US", "not a valid phone number: +44 7700 900123"),
        ("+99", "US", "not a valid phone number: +99"),
    ],
)
def test_it_says_why_a_number_is_not_valid(text, country, reason):
    with pytest.raises(InvalidPhone) as error:
        normalize(text, country)

    assert str(error.value) == reason


def test_it_names_every_supported_country():
    assert set(NAMES) >= phonenumbers.SUPPORTED_REGIONS
    choices = country_choices()
    assert len(choices) == len(phonenumbers.SUPPORTED_REGIONS)
    assert ("US", "United States (US, +1)") in choices
    assert ("AX", "Åland Islands (AX, +358)") in choices
    labels = [label for _, label in choices]
    assert labels.index("Åland Islands (AX, +358)") < labels.index("Albania (AL, +355)")
