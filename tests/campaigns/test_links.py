from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import links
from campaigns.links import (
    MAX_CODE_LENGTH,
    decode,
    encode,
    find_urls,
    original_url,
    track,
    tracked_length_preview,
)
from campaigns.segments import count

BASE = "https://hub.example.com/l/"
WIKI = "https://en.wikipedia.org/wiki/Python_(programming_language)"

ids = st.integers(min_value=1, max_value=2**63 - 1)
indexes = st.integers(min_value=0, max_value=255)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("No links here.", []),
        ("Shop at https://shop.example.com/sale now", ["https://shop.example.com/sale"]),
        ("Shop at http://example.com.", ["http://example.com"]),
        ("Shop: https://example.com/a?b=1&c=2#top!", ["https://example.com/a?b=1&c=2#top"]),
        ("Really? https://example.com/?!", ["https://example.com/"]),
        ("Sale (https://example.com/sale).", ["https://example.com/sale"]),
        ("Read " + WIKI + ".", [WIKI]),
        ("(see " + WIKI + ")", [WIKI]),
        ("[https://example.com/x]", ["https://example.com/x"]),
        ("'https://example.com/it's'", ["https://example.com/it's"]),
        ('"https://example.com/q"', ["https://example.com/q"]),
        ("“https://example.com/q”", ["https://example.com/q"]),
        ("<https://example.com/q>", ["https://example.com/q"]),
        ("a https://example.com/a.b.c... b", ["https://example.com/a.b.c"]),
        ("x https://example.com/x;y, z", ["https://example.com/x;y"]),
        ("http://[::1]:8000/x?a[]=1, ok", ["http://[::1]:8000/x?a[]=1"]),
        ("https://example.com/?u={id}.", ["https://example.com/?u={id}"]),
        ("HTTPS://EXAMPLE.COM/A", ["HTTPS://EXAMPLE.COM/A"]),
        ("https://bücher.example/straße", ["https://bücher.example/straße"]),
        ("Go to www.example.com/sale!", ["www.example.com/sale"]),
        (
            "https://a.example https://b.example\nhttps://a.example",
            ["https://a.example", "https://b.example", "https://a.example"],
        ),
        (
            "https://a.example/?next=https://b.example",
            ["https://a.example/?next=https://b.example"],
        ),
        # Hosts without www. only count with a scheme; nothing in the middle of a word or address.
        ("example.com, shop.example.com/sale", []),
        ("mail info@www.example.com", []),
        ("xhttps://example.com ftp://example.com", []),
        ("http:// https://. www.", []),
    ],
)
def test_it_finds_urls_without_sentence_punctuation(text, urls):
    assert find_urls(text) == urls


@given(ids, indexes)
def test_it_round_trips_any_message_id_and_index(message_id, index):
    code = encode(message_id, index)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", code)
    assert len(code) <= MAX_CODE_LENGTH
    assert decode(code) == (message_id, index)


def test_it_keeps_codes_short():
    assert MAX_CODE_LENGTH == 22
    assert len(encode(2**63 - 1, 255)) == MAX_CODE_LENGTH
    assert len(encode(1, 0)) == 11
    assert len(encode(10**6, 3)) == 14


@given(
    ids, indexes, st.integers(min_value=0, max_value=MAX_CODE_LENGTH - 1), st.sampled_from(B64URL)
)
def test_it_rejects_any_altered_character(message_id, index, position, replacement):
    code = encode(message_id, index)
    position %= len(code)
    altered = code[:position] + replacement + code[position + 1 :]
    if altered == code:
        return
    assert decode(altered) is None


@given(ids, indexes)
def test_it_rejects_truncated_and_extended_codes(message_id, index):
    code = encode(message_id, index)
    for end in range(len(code)):
        assert decode(code[:end]) is None
    assert decode(code + "A") is None
    assert decode("A" + code) is None


def test_it_rejects_a_mac_moved_to_another_link():
    first, second = encode(7, 0), encode(7, 1)
    assert decode(second[:-8] + first[-8:]) is None
    assert decode(first[:-8] + second[-8:]) is None


@pytest.mark.parametrize(
    "code",
    [
        "",
        "=",
        "A",
        "AAAA",
        "x" * 11,
        "x" * 22,
        "x" * 23,
        "x" * 1000,
        "AQAfCZFnHY4=",
        "AQAf CZFnHY",
        "AQAf+ZFnHY4",
        "é" * 11,
        None,
        42,
        b"AQAfCZFnHY4",
    ],
)
def test_it_rejects_malformed_codes_without_raising(code):
    assert decode(code) is None


def test_it_rejects_non_canonical_spellings():
    code = encode(5, 0)  # 8 bytes: the last character carries 4 spare bits
    assert len(code) == 11
    spare = B64URL[B64URL.index(code[-1]) ^ 1]
    assert decode(code[:-1] + spare) is None


def test_it_rejects_codes_signed_with_another_secret(settings):
    code = encode(42, 3)
    assert decode(code) == (42, 3)
    settings.SECRET_KEY = "another-installation"
    assert decode(code) is None


def test_it_rejects_a_valid_mac_over_a_non_canonical_varint():
    payload = bytes([0x85, 0x00, 0])  # 5 spelt in two bytes, index 0
    code = links._b64(payload + links._mac(payload))
    assert decode(code) is None


@pytest.mark.parametrize(("message_id", "index"), [(-1, 0), (2**63, 0), (1, -1), (1, 256)])
def test_it_refuses_to_encode_out_of_range(message_id, index):
    with pytest.raises(ValueError):
        encode(message_id, index)


def test_it_tracks_every_link_and_leaves_the_rest_untouched():
    text = f"Hi! Sale: https://shop.example/a. Also ({WIKI}) and https://shop.example/a, bye"
    tracked = track(text, 1234, BASE)
    assert tracked == (
        f"Hi! Sale: {BASE}{encode(1234, 0)}. Also ({BASE}{encode(1234, 1)}) "
        f"and {BASE}{encode(1234, 2)}, bye"
    )
    assert [decode(url.removeprefix(BASE)) for url in find_urls(tracked)] == [
        (1234, 0),
        (1234, 1),
        (1234, 2),
    ]


def test_it_leaves_text_without_links_as_it_is():
    assert track("No links {{}} here.", 1, BASE) == "No links {{}} here."


def test_it_leaves_links_past_the_256th_untracked():
    text = " ".join(f"https://e.example/{i}" for i in range(258))
    tracked = track(text, 9, BASE).split(" ")
    assert tracked[255] == BASE + encode(9, 255)
    assert tracked[256:] == ["https://e.example/256", "https://e.example/257"]
    assert original_url(text, 257) == "https://e.example/257"


@given(
    ids,
    st.lists(
        st.sampled_from(["Hi ", "https://a.example/x", " ", WIKI, ". ", "€", "ж"]), max_size=12
    ),
)
def test_it_previews_a_length_no_tracked_text_exceeds(message_id, pieces):
    text = "".join(pieces)
    preview = tracked_length_preview(text, BASE)
    tracked = track(text, message_id, BASE)
    assert len(preview) >= len(tracked)
    # Not always the text's encoding: tracking drops a link's non-GSM characters.
    assert count(preview).encoding == count(tracked).encoding
    assert count(preview).characters >= count(tracked).characters
    assert len(find_urls(preview)) == len(find_urls(text))


def test_it_previews_each_link_at_the_longest_code():
    assert tracked_length_preview("Go https://a.example/x!", BASE) == f"Go {BASE}{'x' * 22}!"


@pytest.mark.parametrize(
    ("index", "url"),
    [
        (0, "https://a.example/x"),
        (1, WIKI),
        (2, "http://www.example.com/sale"),
        (3, "https://a.example/x"),
        (4, None),
        (-1, None),
    ],
)
def test_it_finds_the_original_url_of_a_link(index, url):
    text = f"A https://a.example/x, B ({WIKI}), C www.example.com/sale. D https://a.example/x"
    assert original_url(text, index) == url


def test_it_finds_no_original_url_in_a_text_without_links():
    assert original_url("", 0) is None
