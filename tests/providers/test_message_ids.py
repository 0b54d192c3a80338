from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers import message_ids
from providers.message_ids import InvalidMessageId, sign, verify

ids = st.integers(min_value=0, max_value=2**64 - 1)


@given(ids)
def test_it_round_trips_any_message_id(message_id):
    token = sign(message_id)
    assert len(token) == message_ids.TOKEN_LENGTH <= 64
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert verify(token) == message_id


@given(ids, st.integers(min_value=0, max_value=33), st.sampled_from("AQgw_-9z"))
def test_it_rejects_any_altered_character(message_id, position, replacement):
    token = sign(message_id)
    altered = token[:position] + replacement + token[position + 1 :]
    if altered == token:
        return
    with pytest.raises(InvalidMessageId):
        verify(altered)


@pytest.mark.parametrize(
    "token", ["", "abc", "x" * 34, "x" * 64, sign(5)[:-1], sign(5) + "A", sign(5).replace("A", "+")]
)
def test_it_rejects_malformed_tokens(token):
    if token == sign(5):
        return
    with pytest.raises(InvalidMessageId):
        verify(token)


def test_it_rejects_tokens_signed_with_another_secret(settings):
    token = sign(42)
    settings.SECRET_KEY = "another-installation"
    with pytest.raises(InvalidMessageId):
        verify(token)
