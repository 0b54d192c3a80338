"""Reading providers' own delivery reports and inbound messages with a mapping (SPEC §5.3,
§5.4): pure, on the providers' documented samples (../shared/providers.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from callbacks.receivers.base import Rejected
from providers.kinds.generic import presets
from providers.kinds.generic.reports import ReportMapping, items_of, phone, read

RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

INFOBIP = {key: presets.get("infobip").config[key] for key in ("reports", "inbound")}


def infobip_report(status: str, our_id: str = "OUR-1", error=(0, "NO_ERROR")) -> dict:
    return {
        "bulkId": "BULK-ID-123-xyz",
        "messageId": "2250be2d4219-3af1-78856-aabe-1362af1edfd2",
        "to": "41793026727",
        "sentAt": "2019-11-09T16:00:00.000+0100",
        "doneAt": "2019-11-09T16:00:00.000+0100",
        "messageCount": 1,
        "callbackData": our_id,
        "status": {"groupId": 3, "groupName": status, "id": 5, "name": "DELIVERED_TO_HANDSET"},
        "error": {"groupId": 0, "groupName": "OK", "id": error[0], "name": error[1]},
    }


def read_json(config: dict, document, query: str = ""):
    body = json.dumps(document).encode()
    mapping = ReportMapping.of(config)
    return read(
        mapping, body=body, content_type="application/json", query=query, received_at=RECEIVED
    )


def test_infobip_batched_reports_map_to_delivered_failed_and_pending():
    document = {
        "results": [
            infobip_report("DELIVERED", "A"),
            infobip_report("UNDELIVERABLE", "B", error=(27, "EC_ABSENT_SUBSCRIBER")),
            infobip_report("PENDING", "C"),
        ]
    }

    items = read_json(INFOBIP, document)

    events = [item.event for item in items]
    assert [(e.type, e.meta) for e in events] == [
        ("delivered", "A"),
        ("failed", "B"),
        ("status", "C"),
    ]
    failed = events[1]
    assert (failed.code, failed.description) == ("27", "EC_ABSENT_SUBSCRIBER")
    assert events[0].ts == datetime(2019, 11, 9, 15, 0, tzinfo=UTC)
    assert events[0].to_phone == "+41793026727"
    assert events[0].provider_message_id == "2250be2d4219-3af1-78856-aabe-1362af1edfd2"
    assert [item.outcome for item in items] == ["delivered", "failed", "pending"]


def test_infobip_inbound_messages_become_replies():
    document = {
        "results": [
            {
                "messageId": "817790313235066447",
                "from": "385916242493",
                "to": "385921004026",
                "text": "QUIZ Correct answer is Paris",
                "receivedAt": "2019-11-09T16:00:00.000+0000",
            }
        ]
    }

    (item,) = read_json(INFOBIP, document)

    assert item.outcome == "inbound"
    event = item.event
    assert (event.type, event.from_phone, event.to_phone, event.text) == (
        "replied",
        "+385916242493",
        "385921004026",
        "QUIZ Correct answer is Paris",
    )
    assert event.meta == ""


PLIVO = {
    "reports": {
        "format": "form",
        "our_id_in_url": True,
        "provider_id_path": "$.MessageUUID",
        "number_path": "$.To",
        "status_path": "$.Status",
        "status_map": {"delivered": "delivered", "failed": "failed", "undelivered": "failed"},
        "error_code_path": "$.ErrorCode",
        "time_path": "$.DeliveryReportTime",
        "time_format": "%Y-%m-%d %H:%M:%S.%f",
    }
}


def test_plivo_form_report_takes_our_id_from_the_url_and_its_time_format():
    form = {
        "MessageUUID": "db3ce55a-7f1d-11e1-8ea7-1231380bc196",
        "To": "14157654321",
        "From": "14151234567",
        "Status": "undelivered",
        "ErrorCode": "200",
        "DeliveryReportTime": "2024-05-01 10:00:01.123456",
    }
    mapping = ReportMapping.of(PLIVO)

    (item,) = read(
        mapping,
        body=urlencode(form).encode(),
        content_type="application/x-www-form-urlencoded",
        query="mid=OUR-7",
        received_at=RECEIVED,
    )

    event = item.event
    assert (event.type, event.meta, event.code) == ("failed", "OUR-7", "200")
    assert event.ts == datetime(2024, 5, 1, 10, 0, 1, 123456, tzinfo=UTC)


def test_a_get_report_reads_its_fields_from_the_query():
    mapping = ReportMapping.of(
        {
            "reports": {
                "format": "query",
                "provider_id_path": "$.id",
                "number_path": "$.recipient",
                "status_path": "$.status",
                "status_map": {"delivered": "delivered", "delivery_failed": "failed"},
                "time_path": "$.statusDatetime",
            }
        }
    )
    query = urlencode(
        {
            "id": "49e40bae",
            "recipient": "31612345678",
            "status": "delivered",
            "statusDatetime": "2024-05-02T15:00:05+00:00",
        }
    )

    (item,) = read(mapping, body=b"", content_type="", query=query, received_at=RECEIVED)

    assert (item.event.type, item.event.provider_message_id, item.event.to_phone) == (
        "delivered",
        "49e40bae",
        "+31612345678",
    )


def test_msg91_json_in_a_form_field_with_the_request_id_beside_the_reports():
    mapping = ReportMapping.of(
        {
            "reports": {
                "format": "form",
                "json_field": "data",
                "items_path": "$[*].report[*]",
                "provider_id_path": "$.requestId",
                "number_path": "$.number",
                "status_path": "$.status",
                "status_map": {"1": "delivered", "2": "failed", "9": "failed"},
                "error_description_path": "$.desc",
                "time_path": "$.date",
                "time_format": "%Y-%m-%d %H:%M:%S",
                "time_zone": "Asia/Kolkata",
            }
        }
    )
    data = [
        {
            "senderId": "SOCKET",
            "requestId": "5762846b4f8d285d378b4567",
            "report": [
                {"date": "2024-05-22 10:06:20", "number": "919500000001", "status": "1"},
                {
                    "date": "2024-05-22 10:06:21",
                    "number": "919500000002",
                    "status": "2",
                    "desc": "NDNC",
                },
            ],
            "userId": "1",
        }
    ]
    body = urlencode({"data": json.dumps(data)}).encode()

    items = read(
        mapping,
        body=body,
        content_type="application/x-www-form-urlencoded",
        query="",
        received_at=RECEIVED,
    )

    delivered, failed = (item.event for item in items)
    assert delivered.provider_message_id == failed.provider_message_id == data[0]["requestId"]
    assert (delivered.to_phone, failed.to_phone) == ("+919500000001", "+919500000002")
    assert (failed.type, failed.description) == ("failed", "NDNC")
    ist = timezone(timedelta(hours=5, minutes=30))
    assert delivered.ts == datetime(2024, 5, 22, 10, 6, 20, tzinfo=ist)


def test_a_report_repeated_has_the_same_identity_and_different_statuses_do_not():
    first, again, other = (
        item.event
        for item in read_json(
            INFOBIP,
            {
                "results": [
                    infobip_report("DELIVERED"),
                    infobip_report("DELIVERED"),
                    infobip_report("PENDING"),
                ]
            },
        )
    )
    assert first.identity == again.identity != other.identity


def test_status_values_match_exactly_then_ignoring_case_and_unknown_ones_are_pending():
    mapping = ReportMapping.of({"reports": {"status_map": {"Delivered": "delivered"}}})
    assert mapping.outcome_of("Delivered") == "delivered"
    assert mapping.outcome_of("DELIVERED") == "delivered"
    assert mapping.outcome_of("Queued") == "pending"


def test_a_body_that_is_not_json_is_refused():
    mapping = ReportMapping.of(INFOBIP)
    with pytest.raises(Rejected) as refused:
        read(mapping, body=b"{not json", content_type="", query="", received_at=RECEIVED)
    assert refused.value.status == 400
    assert refused.value.message.startswith("Bad request. The body is not valid JSON")


def test_a_missing_json_field_is_named():
    mapping = ReportMapping.of({"reports": {"format": "form", "json_field": "data"}})
    with pytest.raises(Rejected) as refused:
        read(mapping, body=b"other=1", content_type="", query="", received_at=RECEIVED)
    assert refused.value.missing_fields == ("data",)


def test_an_item_without_a_status_or_an_id_says_why():
    no_status, no_id = read_json(
        INFOBIP,
        {"results": [{"messageId": "x"}, {"status": {"groupName": "DELIVERED"}}]},
    )
    assert no_status.event is None and "no status at $.status.groupName" in no_status.problem
    assert no_id.event is None and no_id.problem == "no message id to match it by"


def test_a_time_in_the_wrong_format_is_a_problem_of_its_item():
    config = {"reports": {**INFOBIP["reports"], "time_format": "epoch_ms"}}
    (item,) = read_json(config, {"results": [infobip_report("DELIVERED")]})
    assert item.event is None
    assert "is not Unix milliseconds" in item.problem


def test_items_see_the_plain_fields_around_them_but_keep_their_own():
    document = {"batch": "B", "to": "outer", "list": [{"to": "inner"}, {"x": 1}]}
    assert items_of("$.list[*]", document) == [
        {"batch": "B", "to": "inner"},
        {"batch": "B", "to": "outer", "x": 1},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("41793026727", "+41793026727"),
        ("+41 79 302 67 27", "+41793026727"),
        ("0041793026727", "+41793026727"),
        ("ACME", "ACME"),
        ("12345", "12345"),
    ],
)
def test_numbers_are_read_as_e164_when_they_are_numbers(text, expected):
    assert phone(text) == expected


def test_a_reply_that_carries_a_status_is_told_apart_by_the_inbound_condition():
    """Telnyx posts replies and delivery updates to one URL; a reply's payload has a status
    too, and its direction says what it is."""
    config = {
        "reports": {
            "format": "json",
            "provider_id_path": "$.data.payload.id",
            "status_path": "$.data.payload.to[0].status",
            "status_map": {"delivered": "delivered"},
        },
        "inbound": {
            "from_path": "$.data.payload.from.phone_number",
            "text_path": "$.data.payload.text",
            "when_path": "$.data.payload.direction",
            "when_value": "inbound",
        },
    }

    def update(direction: str) -> dict:
        payload = {
            "id": "b0c7e8cb",
            "direction": direction,
            "from": {"phone_number": "+18665550001"},
            "to": [{"phone_number": "+18445550001", "status": "delivered"}],
            "text": "Hello",
        }
        return {"data": {"event_type": "message.x", "payload": payload}}

    (reply,) = read_json(config, update("inbound"))
    (report,) = read_json(config, update("outbound"))

    assert (reply.outcome, reply.event.type, reply.event.from_phone) == (
        "inbound",
        "replied",
        "+18665550001",
    )
    assert (report.outcome, report.event.type) == ("delivered", "delivered")
