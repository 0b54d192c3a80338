"""Each mapped preset's own delivery reports and replies, as its documentation shows them
(../shared/providers.md, the section named in each comment), with placeholders the tests
fill in for one campaign: <PID> the provider's id of the message (from its send answer),
<MID> our $$MessageID, <TO> the number as digits, <+TO> as E.164, <TIME> the report's time
in the provider's documented format. Field names and status values are the documented ones;
a value marked "illustrative" (an error code, mostly) is ours: the source names the field only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

JSON, FORM, QUERY = "json", "form", "query"  # POST JSON, POST form, GET query
IST = ZoneInfo("Asia/Kolkata")
CET = timezone(timedelta(hours=1))


@dataclass(frozen=True)
class Samples:
    transport: str
    delivered: object
    failed: object  # with an error code
    code: str  # the failed sample's code, as the Errors tab shows it
    pending: object  # a status the preset maps to pending (or does not list)
    clock: Callable[[datetime], str] | None  # the report time as the provider writes it
    replies: tuple[Callable[[str], object], ...] = ()  # text -> a message sent to us


def utc(pattern: str) -> Callable[[datetime], str]:
    return lambda moment: moment.astimezone(UTC).strftime(pattern)


def local(pattern: str, zone) -> Callable[[datetime], str]:
    return lambda moment: moment.astimezone(zone).strftime(pattern)


def plivo_report(status: str, **more) -> dict:
    return {
        "MessageUUID": "<PID>",
        "To": "<TO>",
        "From": "14151234567",
        "Status": status,
        "Units": "1",
        "TotalRate": "0.00500",
        "TotalAmount": "0.00500",
        "MCC": "310",
        "MNC": "260",
        "Sequence": "3",
        "DeliveryReportTime": "<TIME>",
        **more,
    }


def plivo_reply(text: str) -> dict:
    return {
        "From": "<TO>",
        "To": "14151234567",
        "Text": text,
        "Type": "sms",
        "MessageUUID": "5f6e3b36-9c1a-11ee-8b45-0242ac110002",
        "Units": "1",
        "TotalRate": "0.00000",
        "TotalAmount": "0.00000",
        "MessageIntent": "optout" if text == "STOP" else "",
    }


def vonage_report(status: str, err_code: str) -> dict:
    return {
        "msisdn": "<TO>",
        "to": "AcmeInc",  # the sender, not the recipient
        "network-code": "23410",
        "messageId": "<PID>",
        "price": "0.0333",
        "status": status,
        "scts": "2001011400",
        "err-code": err_code,
        "client-ref": "<MID>",
        "message-timestamp": "<TIME>",
        "api-key": "abcd1234",
    }


def vonage_reply(text: str) -> dict:
    return {
        "msisdn": "<TO>",
        "to": "12015550123",
        "messageId": "0A0000001234567B",
        "text": text,
        "type": "text",
        "keyword": text.split()[0].upper(),
        "message-timestamp": "<TIME>",
    }


def infobip_report(status: dict, error: dict) -> dict:
    return {
        "results": [
            {
                "bulkId": "BULK-ID-123-xyz",
                "messageId": "<MID>",  # our $$MessageID, set as destinations[].messageId
                "to": "<TO>",
                "sender": "InfoSMS",
                "sentAt": "<TIME>",
                "doneAt": "<TIME>",
                "messageCount": 1,
                "callbackData": "<MID>",
                "price": {"pricePerMessage": 0.01, "currency": "EUR"},
                "status": status,
                "error": error,
            }
        ]
    }


INFOBIP_OK = {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "permanent": False}


def infobip_reply(text: str) -> dict:
    return {
        "results": [
            {
                "messageId": "817790313235066447",
                "from": "<TO>",
                "to": "41793026000",
                "text": text,
                "cleanText": text,
                "keyword": text.split()[0].upper(),
                "receivedAt": "<TIME>",
                "smsCount": 1,
                "price": {"pricePerMessage": 0, "currency": "EUR"},
                "callbackData": "",
            }
        ],
        "messageCount": 1,
        "pendingMessageCount": 0,
    }


def sinch_report(status: str, code: int) -> dict:
    return {
        "type": "recipient_delivery_report_sms",
        "batch_id": "<PID>",
        "recipient": "<+TO>",
        "code": code,
        "status": status,
        "at": "<TIME>",
        "operator_status_at": "<TIME>",
        # No client_reference: a batch to many numbers cannot carry each message's own id.
        "applied_originator": "+12025551234",
        "encoding": "GSM",
    }


def sinch_reply(text: str) -> dict:
    return {
        "type": "mo_text",
        "id": "01FC66621VHDBN119Z8PMV1AHY",
        "from": "<+TO>",
        "to": "12025551234",
        "body": text,
        "received_at": "<TIME>",
        "operator_id": "31000",
        "sent_at": "<TIME>",
    }


def telnyx_report(event_type: str, status: str, errors: list) -> dict:
    return {
        "data": {
            "record_type": "event",
            "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
            "event_type": event_type,
            "occurred_at": "<TIME>",
            "payload": {
                "record_type": "message",
                "direction": "outbound",
                "id": "<PID>",
                "type": "SMS",
                "from": {"phone_number": "+18445550001", "carrier": "", "line_type": ""},
                "to": [
                    {
                        "phone_number": "<+TO>",
                        "status": status,
                        "carrier": "T-MOBILE USA, INC.",
                        "line_type": "Wireless",
                    }
                ],
                "text": "Hello",
                "errors": errors,
                "completed_at": "<TIME>",
            },
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/callback"},
    }


def telnyx_reply(text: str) -> dict:
    """developers.telnyx.com/api-reference/callbacks/inbound-message (to[0].status is set)."""
    return {
        "data": {
            "record_type": "event",
            "id": "bf6307bd-884d-4c1f-b6ea-c62b8c495d3c",
            "event_type": "message.received",
            "occurred_at": "<TIME>",
            "payload": {
                "record_type": "message",
                "direction": "inbound",
                "id": "7ee4241c-f127-47e5-9c34-3aac291f8058",
                "type": "SMS",
                "from": {"phone_number": "<+TO>", "carrier": "", "line_type": "Wireless"},
                "to": [
                    {
                        "phone_number": "+18445550001",
                        "status": "delivered",
                        "carrier": "TELNYX LLC",
                        "line_type": "VoIP",
                    }
                ],
                "text": text,
                "media": [],
                "encoding": "GSM-7",
                "parts": 1,
            },
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/callback"},
    }


def msg91_report(status: str, desc: str) -> dict:
    return {
        "date": "<TIME>",
        "number": "<TO>",
        "senderId": "MSGIND",
        "requestId": "<PID>",
        "status": status,
        "desc": desc,
        "userId": "123456",
        "campaignName": "API",
        "credit": "1",
        "amount": "0.20",
        "INMSID": "INMSID-0001",
        "CRQID": "CRQID-0001",
    }


def exotel_report(status: str, detailed: str, code: str) -> dict:
    return {
        "SmsSid": "<PID>",
        "To": "<+TO>",
        "Status": status,
        "SmsUnits": "1",
        "DetailedStatus": detailed,
        "DetailedStatusCode": code,
        "DateSent": "<TIME>",
        "CustomField": "<MID>",
    }


def bulksms_report(status: dict) -> list:
    return [
        {
            "id": "<PID>",
            "type": "SENT",
            "from": "",
            "to": "<+TO>",
            "body": "Hello",
            "status": status,
            "submission": {"id": "2-00000000000394839839", "date": "<TIME>"},
        }
    ]


def africastalking_report(status: str, **more) -> dict:
    return {
        "id": "<PID>",
        "status": status,
        "phoneNumber": "<+TO>",
        "networkCode": "63902",
        "retryCount": "0",
        **more,
    }


def africastalking_reply(text: str) -> dict:
    return {
        "date": "<TIME>",
        "from": "<+TO>",
        "id": "5cd7a7e0-d9a3-4b7e-9e2e-4cbd5a3b1c01",
        "linkId": "SampleLinkId123",
        "text": text,
        "to": "20880",
        "networkCode": "63902",
    }


def messagebird_report(status: str, reason: str, code: str) -> dict:
    return {
        "id": "<PID>",
        "reference": "<MID>",
        "recipient": "<TO>",
        "status": status,
        "statusDatetime": "<TIME>",
        "statusReason": reason,
        "statusErrorCode": code,
        "mccmnc": "20408",
        "price[amount]": "0.07",
        "price[currency]": "EUR",
    }


def gupshup_report(status: str, cause: str, err_code: str) -> dict:
    # The fields the preset's hint puts in the Realtime Delivery URL (%0 … %6).
    return {
        "externalId": "<PID>",
        "deliveredTS": "<TIME>",
        "status": status,
        "cause": cause,
        "phoneNo": "<TO>",
        "errCode": err_code,
    }


SAMPLES = {
    # providers.md §1 Plivo: DLR (form) sample and fields; MO fields. ErrorCode 80 is
    # illustrative.
    "plivo": Samples(
        FORM,
        delivered=plivo_report("delivered", ErrorCode="000"),
        failed=plivo_report("undelivered", ErrorCode="80"),
        code="80",
        pending=plivo_report("sent"),
        clock=utc("%Y-%m-%d %H:%M:%S.%f"),
        replies=(plivo_reply,),
    ),
    # providers.md §2 Vonage: the DLR sample (POST-JSON); err-code 50 from its list; MO fields.
    "vonage": Samples(
        JSON,
        delivered=vonage_report("delivered", "0"),
        failed=vonage_report("failed", "50"),
        code="50",
        pending=vonage_report("buffered", "0"),
        clock=utc("%Y-%m-%d %H:%M:%S"),
        replies=(vonage_reply,),
    ),
    # providers.md §3 Infobip: the DLR sample ({"results": [...]}, doneAt with +0100) and MO.
    # The failed one's error (27 EC_ABSENT_SUBSCRIBER) is illustrative.
    "infobip": Samples(
        JSON,
        delivered=infobip_report(
            {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
            INFOBIP_OK,
        ),
        failed=infobip_report(
            {
                "groupId": 2,
                "groupName": "UNDELIVERABLE",
                "id": 9,
                "name": "UNDELIVERABLE_NOT_DELIVERED",
            },
            {
                "groupId": 1,
                "groupName": "HANDSET_ERRORS",
                "id": 27,
                "name": "EC_ABSENT_SUBSCRIBER",
                "permanent": False,
            },
        ),
        code="27",
        pending=infobip_report(
            {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED"},
            INFOBIP_OK,
        ),
        clock=local("%Y-%m-%dT%H:%M:%S.000%z", CET),
        replies=(infobip_reply,),
    ),
    # providers.md §4 Sinch: recipient_delivery_report_sms sample (per_recipient_final) and
    # mo_text. Codes 404 and 401 are illustrative.
    "sinch": Samples(
        JSON,
        delivered=sinch_report("Delivered", 0),
        failed=sinch_report("Failed", 404),
        code="404",
        pending=sinch_report("Dispatched", 401),
        clock=lambda moment: moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        replies=(sinch_reply,),
    ),
    # providers.md §5 Telnyx: the delivery-update envelope (message.sent / message.finalized).
    # Error 40008 is illustrative. Its documented reply is tested apart (see the test module).
    "telnyx": Samples(
        JSON,
        delivered=telnyx_report("message.finalized", "delivered", []),
        failed=telnyx_report(
            "message.finalized",
            "delivery_failed",
            [
                {
                    "code": "40008",
                    "title": "Undeliverable",
                    "detail": "The message was not delivered.",
                }
            ],
        ),
        code="40008",
        pending=telnyx_report("message.sent", "sent", []),
        clock=lambda moment: moment.astimezone(UTC).isoformat(timespec="milliseconds"),
    ),
    # providers.md §6 MSG91: the v3 webhook (flat JSON), "1" delivered, "2" failed; 8 is a
    # status the map does not list (pending, inferred). No inbound documented.
    "msg91": Samples(
        JSON,
        delivered=msg91_report("1", "DELIVERED"),
        failed=msg91_report("2", "FAILED"),
        code="2",
        pending=msg91_report("8", "SUBMITTED"),
        clock=local("%Y-%m-%d %H:%M:%S", IST),
    ),
    # providers.md §7 Textlocal: receipts (form) number, status, customID, datetime; "?" is
    # documented (no receipt after 4 days) and not mapped: kept, not counted.
    "textlocal": Samples(
        FORM,
        delivered={"number": "<TO>", "status": "D", "customID": "<MID>", "datetime": "<TIME>"},
        failed={"number": "<TO>", "status": "U", "customID": "<MID>", "datetime": "<TIME>"},
        code="U",
        pending={"number": "<TO>", "status": "?", "customID": "<MID>", "datetime": "<TIME>"},
        clock=local("%Y-%m-%d %H:%M:%S", IST),
    ),
    # providers.md §8 Exotel: StatusCallback fields (form); "sent" is delivered. Detailed
    # statuses and codes are illustrative (21010 PENDING_TO_OPERATOR is the send answer's).
    "exotel": Samples(
        FORM,
        delivered=exotel_report("sent", "DELIVERED_TO_HANDSET", "20005"),
        failed=exotel_report("failed", "FAILED_DUE_TO_INVALID_NUMBER", "20012"),
        code="20012",
        pending=exotel_report("submitted", "PENDING_TO_OPERATOR", "21010"),
        clock=local("%Y-%m-%d %H:%M:%S", IST),
    ),
    # providers.md §9 BulkSMS: the webhook posts a JSON array of v1 Message objects (status
    # {id, type, subtype}); the webhook page's other shape (status.condition) is inferred.
    "bulksms": Samples(
        JSON,
        delivered=bulksms_report({"id": "DELIVERED.null", "type": "DELIVERED", "subtype": None}),
        failed=bulksms_report(
            {"id": "FAILED.HANDSET_ERROR", "type": "FAILED", "subtype": "HANDSET_ERROR"}
        ),
        code="HANDSET_ERROR",
        pending=bulksms_report({"id": "SENT.null", "type": "SENT", "subtype": None}),
        clock=None,
    ),
    # providers.md §12 Africa's Talking: report fields (form, inferred) id, status,
    # phoneNumber, networkCode, failureReason, retryCount; MO fields (inferred). The
    # failureReason value is illustrative; it is the Errors tab's code (the preset's fix).
    "africastalking": Samples(
        FORM,
        delivered=africastalking_report("Success"),
        failed=africastalking_report("Failed", failureReason="AbsentSubscriber"),
        code="AbsentSubscriber",
        pending=africastalking_report("Submitted"),
        clock=None,
        replies=(africastalking_reply,),
    ),
    # providers.md §15 MessageBird: status reports by GET with id, reference, recipient,
    # status, statusDatetime (RFC3339), statusReason, statusErrorCode. Code 1 is illustrative.
    "messagebird": Samples(
        QUERY,
        delivered=messagebird_report("delivered", "successfully delivered", ""),
        failed=messagebird_report("delivery_failed", "unknown subscriber", "1"),
        code="1",
        pending=messagebird_report("buffered", "", ""),
        clock=lambda moment: moment.astimezone(UTC).isoformat(),
    ),
    # providers.md §13 Kaleyra: the statuses are documented; the callback's fields (id, to,
    # status) are the preset's inferred ones (a callback profile defines them).
    "kaleyra": Samples(
        JSON,
        delivered={"id": "<PID>", "to": "<+TO>", "status": "Delivered"},
        failed={"id": "<PID>", "to": "<+TO>", "status": "Undelivered"},
        code="Undelivered",
        pending={"id": "<PID>", "to": "<+TO>", "status": "Sent"},
        clock=None,
    ),
    # providers.md §14 Gupshup: the Realtime Delivery URL's query (deliveredTS in epoch ms);
    # UNKNOWN is not mapped (kept, not counted). Cause and errCode values are illustrative.
    "gupshup": Samples(
        QUERY,
        delivered=gupshup_report("SUCCESS", "SUCCESS", "000"),
        failed=gupshup_report("FAILURE", "UNKNOWN_SUBSCRIBER", "001"),
        code="001",
        pending=gupshup_report("UNKNOWN", "UNKNOWN", "000"),
        clock=lambda moment: str(int(moment.timestamp() * 1000)),
    ),
}

# A preset whose documented reply looks like a report (Telnyx's carries a status too): read
# by its inbound condition (payload.direction is "inbound").
CONDITIONAL_REPLIES = {"telnyx": telnyx_reply}


def filled(node, values: dict[str, str]):
    """The sample with its placeholders (the keys of `values`, <+TO> before <TO>) replaced."""
    if isinstance(node, str):
        for token, value in values.items():
            node = node.replace(token, value)
        return node
    if isinstance(node, dict):
        return {key: filled(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [filled(value, values) for value in node]
    return node
