"""The reference's error codes and descriptions, character for character (SPEC §6.4): the
generic table (900 to 920 as listed, 911 absent) and the Twilio table, so a typo in the Errors tab
cannot slip in."""

from __future__ import annotations

import pytest

from callbacks.events import ERROR_CODES, error_description

# Copied from the reference documents (../shared/reference/000_…txt "Error Codes" and "Error
# Code 900"; 002_…txt Twilio error codes): CI's clone has only the repository.
GENERIC_CODES = [
    ("900", "Other"),
    ("901", "DND failure"),
    ("902", "Failed spam detected"),
    ("903", "Failed rejected blacklist"),
    ("904", "Failed system error"),
    ("905", "Failed subscriber error"),
    ("906", "Blocked by DLT"),
    ("907", "Entity blocked by DLT"),
    ("908", "Template blocked by DLT"),
    ("909", "Failed DLT consent error"),
    ("910", "Invalid subscriber"),
    ("912", "Message Inbox Full"),
    ("913", "NDNC Rejected"),
    ("914", "Undelivered"),
    ("915", "Dropped"),
    ("916", "Expired"),
    ("917", "Force Expired"),
    ("918", "Duplicate Message Drop"),
    ("919", "DLT Failure"),
    ("920", "URL not whitelisted"),
]
TWILIO_CODES = [
    ("30001", "Queue overflow"),
    ("30002", "Account suspended"),
    ("30003", "Unreachable destination handset"),
    ("30004", "Message blocked"),
    ("30005", "Unknown destination handset"),
    ("30006", "Landline or unreachable carrier"),
    ("30007", "Carrier violation"),
    ("30008", "Unknown error"),
    ("30009", "Missing segment"),
    ("30010", "Message price exceeds the max price"),
    ("21614", "Invalid Mobile Number"),
    ("21610", "Unsubscribed recipient"),
]


@pytest.mark.parametrize(("code", "description"), GENERIC_CODES + TWILIO_CODES)
def test_code_has_the_reference_description(code, description):
    assert ERROR_CODES[code] == description


def test_no_code_beyond_the_reference():
    assert len(GENERIC_CODES) == 20  # 900 plus the table's 19 (901 to 920 without 911)
    assert dict(GENERIC_CODES + TWILIO_CODES) == ERROR_CODES


@pytest.mark.parametrize(("code", "description"), GENERIC_CODES[1:] + TWILIO_CODES)
def test_known_code_shows_the_reference_description_not_the_one_sent(code, description):
    assert error_description(code, "whatever the provider said") == description


def test_other_and_unknown_codes_keep_the_description_sent():
    assert error_description("900", "Not able to send message to this phone") == (
        "Not able to send message to this phone"
    )
    assert error_description("900", "") == "Other"
    assert error_description("4711", "Carrier said no") == "Carrier said no"
