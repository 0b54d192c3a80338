"""The sandbox's simulated outcomes (SPEC §3.6): shares, determinism and the callback format."""

from __future__ import annotations

import json
from collections import Counter

from callbacks.events import ERROR_CODES
from providers import message_ids
from providers.kinds.generic import receiver as generic
from sandbox import simulate
from sandbox.simulate import Submitted

RECEIVED_MS = 1_700_000_000_000
LINK = "https://shop.example/spring"


def refs(count: int) -> list[str]:
    # Fixed strings, not signed ids: the shares asserted below do not depend on SECRET_KEY.
    return [f"ref-{i:05d}" for i in range(count)]


def events_of(messages) -> list[tuple[str, dict]]:
    return [pair for m in messages for pair in simulate.fate(m, RECEIVED_MS)]


def test_it_gives_each_outcome_its_share_over_10000_messages():
    messages = [Submitted(ref, "+14155550100", LINK) for ref in refs(10_000)]
    counts = Counter(event for event, _ in events_of(messages))
    replies = Counter(r["incomingText"] for e, r in events_of(messages) if e == "replied")

    assert counts["delivered"] + counts["failed"] == 10_000
    assert abs(counts["delivered"] / 10_000 - 0.90) < 0.015
    assert abs(counts["clicked"] / counts["delivered"] - 0.08) < 0.015
    assert abs(counts["replied"] / counts["delivered"] - 0.03) < 0.008
    assert abs(replies["STOP"] / counts["replied"] - 0.25) < 0.1
    assert set(replies) == {"STOP", "Thanks!", "When does it end?"}


def test_it_fails_with_codes_of_the_reference_and_their_descriptions():
    messages = [Submitted(ref, "+14155550100") for ref in refs(5_000)]
    failed = [record for event, record in events_of(messages) if event == "failed"]
    codes = Counter(record["code"] for record in failed)

    assert set(codes) == set(simulate.FAILURE_WEIGHTS)
    assert codes.most_common(1)[0][0] == "914"
    for record in failed:
        assert record["description"] == ERROR_CODES[record["code"]]


def test_it_gives_the_same_message_the_same_fate():
    message = Submitted(message_ids.sign(42), "+14155550100", LINK)

    first = simulate.fate(message, RECEIVED_MS)
    again = simulate.fate(message, RECEIVED_MS)
    later = simulate.fate(message, RECEIVED_MS + 60_000)

    assert first == again
    assert [event for event, _ in later] == [event for event, _ in first]
    assert [r["ts"] - 60_000 for _, r in later] == [r["ts"] for _, r in first]


def test_it_dates_every_event_within_three_seconds_of_receipt():
    messages = [Submitted(ref, "+14155550100", LINK) for ref in refs(2_000)]
    outcome_ts = {}
    for event, record in events_of(messages):
        assert RECEIVED_MS + 400 <= record["ts"] <= RECEIVED_MS + 3_000
        if event in ("delivered", "failed"):
            outcome_ts[record["meta"]] = record["ts"]
        else:
            assert record["ts"] > outcome_ts[record["meta"]]


def test_it_clicks_only_delivered_messages_with_a_link():
    without_link = [Submitted(ref, "+14155550100") for ref in refs(3_000)]
    with_link = [Submitted(ref, "+14155550100", LINK) for ref in refs(3_000)]

    assert not [e for e, _ in events_of(without_link) if e == "clicked"]
    clicked = [(e, r) for e, r in events_of(with_link) if e == "clicked"]
    delivered = {r["meta"] for e, r in events_of(with_link) if e == "delivered"}
    assert clicked
    for _, record in clicked:
        assert record["url"] == LINK
        assert "shorturl" not in record
        assert record["meta"] in delivered


def test_it_reports_the_hubs_tracked_link_as_its_own_short_url():
    base = "http://127.0.0.1:8000/l/"
    messages = [Submitted(ref, "+14155550100", base + "AbC123") for ref in refs(500)]
    clicks = [
        record
        for m in messages
        for event, record in simulate.fate(m, RECEIVED_MS, link_base=base)
        if event == "clicked"
    ]

    assert clicks
    assert all(c["url"] == c["shorturl"] == base + "AbC123" for c in clicks)


def test_it_takes_the_first_link_of_the_text():
    assert simulate.first_url("Sale! www.shop.example/a and https://b.example") == (
        "http://www.shop.example/a"
    )
    assert simulate.first_url("No link here.") == ""


def test_it_builds_callbacks_the_real_parser_reads_at_most_1000_records_each():
    messages = [Submitted(ref, "+14155550100", LINK) for ref in refs(1_500)]

    payloads = simulate.callback_payloads(messages, RECEIVED_MS)

    expected = events_of(messages)
    assert len(payloads) == 2
    parsed = []
    for payload in payloads:
        assert isinstance(payload, list)
        assert all(set(group) == {"event", "data"} for group in payload)
        assert sum(len(group["data"]) for group in payload) <= 1000
        parsed += generic.parse(json.dumps(payload).encode(), max_records=1000)
    assert len(parsed) == len(expected)
    assert Counter(e.type for e in parsed) == Counter(event for event, _ in expected)
    assert {e.meta for e in parsed} == {m.ref for m in messages}


def test_it_gives_each_ref_a_stable_provider_message_id():
    ref = message_ids.sign(7)

    assert simulate.provider_message_id(ref) == simulate.provider_message_id(ref)
    assert simulate.provider_message_id(ref).startswith("SBX-")
    assert simulate.provider_message_id(ref) != simulate.provider_message_id(message_ids.sign(8))
