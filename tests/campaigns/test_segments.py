from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.segments import GSM7_BASIC, GSM7_EXTENSION, SegmentCount, count, split

BASIC = sorted(GSM7_BASIC)
EXTENSION = sorted(GSM7_EXTENSION)
EMOJI = "😀"


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def septets(text: str) -> int:
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def test_it_knows_the_whole_gsm_alphabet():
    assert len(GSM7_BASIC) == 127  # 128 codes, one of them the escape
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert {"@", "£", "Δ", "\n", "\r", "Ç", "à", "¤", "§"} <= GSM7_BASIC
    assert not {"\x1b", "ç", "`", "\t", "\u2019", "Á"} & GSM7_BASIC


def test_it_counts_an_empty_body_as_nothing_to_send():
    assert count("") == SegmentCount("GSM-7", 0, 0, 160, 160, ())


@pytest.mark.parametrize(
    ("text", "characters", "segments", "per_segment", "remaining"),
    [
        ("a", 1, 1, 160, 159),
        ("a" * 160, 160, 1, 160, 0),
        ("a" * 161, 161, 2, 153, 145),
        ("a" * 306, 306, 2, 153, 0),
        ("a" * 307, 307, 3, 153, 152),
        ("€" * 80, 160, 1, 160, 0),
        ("a" * 159 + "€", 161, 2, 153, 145),
        # 152 septets then an extension character: it cannot straddle, so part 1 holds 152.
        ("a" * 152 + "€" + "a" * 7, 161, 2, 153, 144),
        ("a" * 151 + "€" + "a" * 8, 161, 2, 153, 145),
        # Every part-1 boundary falls mid-€: part 1 holds 76 of them (152 septets).
        ("€" * 81, 162, 2, 153, 143),
    ],
)
def test_it_counts_gsm7_septets_and_segments(text, characters, segments, per_segment, remaining):
    assert count(text) == SegmentCount("GSM-7", characters, segments, per_segment, remaining, ())


@pytest.mark.parametrize(
    ("text", "characters", "segments", "per_segment", "remaining"),
    [
        ("ж", 1, 1, 70, 69),
        ("ж" * 70, 70, 1, 70, 0),
        ("ж" * 71, 71, 2, 67, 63),
        ("ж" * 134, 134, 2, 67, 0),
        ("ж" * 135, 135, 3, 67, 66),
        (EMOJI, 2, 1, 70, 68),
        (EMOJI * 35, 70, 1, 70, 0),
        (EMOJI * 35 + "a", 71, 2, 67, 62),
        # 66 units then a surrogate pair: the pair cannot straddle, so part 1 holds 66.
        (EMOJI * 36, 72, 2, 67, 61),
        ("ж" + EMOJI * 35, 71, 2, 67, 63),
    ],
)
def test_it_counts_ucs2_code_units_and_segments(text, characters, segments, per_segment, remaining):
    result = count(text)
    assert (result.encoding, result.characters, result.segments) == ("UCS-2", characters, segments)
    assert (result.per_segment, result.remaining) == (per_segment, remaining)


def test_it_names_the_characters_that_forced_ucs2_once_each_in_order():
    assert count("Café \u201924 \u2019 é ç 😀 ç").ucs2_characters == ("\u2019", "ç", EMOJI)


def test_it_keeps_extension_characters_in_gsm7():
    result = count("Price: 5€ [50% off] {today} ~ ^ | \\ \f")
    assert result.encoding == "GSM-7"
    assert result.characters == len("Price: 5€ [50% off] {today} ~ ^ | \\ \f") + 10


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("", []),
        ("a" * 160, [160]),
        ("a" * 161, [153, 8]),
        ("a" * 152 + "€" + "a" * 7, [152, 9]),
        (EMOJI * 36, [66, 6]),
        ("ж" * 66 + EMOJI + "ж" * 3, [66, 5]),
        ("ж" * 67 + EMOJI * 2, [67, 4]),
    ],
)
def test_it_splits_where_the_network_does(text, sizes):
    parts = split(text)
    assert "".join(parts) == text
    measure = units if count(text).encoding == "UCS-2" else septets
    assert [measure(part) for part in parts] == sizes


@given(st.text(alphabet=BASIC, min_size=161, max_size=1000))
def test_it_counts_plain_gsm7_in_153_septet_parts(text):
    result = count(text)
    assert result.segments == math.ceil(len(text) / 153)
    assert result.remaining == result.segments * 153 - len(text)


@given(st.text(alphabet=BASIC + EXTENSION, max_size=1000))
def test_it_never_lets_an_extension_character_straddle_parts(text):
    result = count(text)
    parts = split(text)
    assert result.encoding == "GSM-7"
    assert result.characters == septets(text)
    assert result.segments == len(parts)
    assert "".join(parts) == text
    if result.characters > 160:
        assert all(septets(part) <= 153 for part in parts)
        assert math.ceil(result.characters / 153) <= result.segments
        assert result.segments <= math.ceil(result.characters / 152)
        assert result.remaining == 153 - septets(parts[-1])


@given(st.text(min_size=1, max_size=500).filter(lambda t: count(t).encoding == "UCS-2"))
def test_it_never_splits_a_surrogate_pair(text):
    result = count(text)
    parts = split(text)
    assert result.characters == units(text)
    assert result.segments == len(parts)
    assert "".join(parts) == text
    assert all(units(part) <= (70 if len(parts) == 1 else 67) for part in parts)
    assert all(
        units(a) == 67 or (units(a) == 66 and ord(b[0]) > 0xFFFF) for a, b in pairwise(parts)
    )
