"""The fixed vocabulary of callbacks (SPEC §6): event types, the system events they become,
and the error codes with their descriptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DELIVERED = "delivered"
FAILED = "failed"
CLICKED = "clicked"
REPLIED = "replied"
STATUS = "status"  # an intermediate provider status (Twilio's queued/sent…): kept, not counted

EVENT_TYPES = (DELIVERED, FAILED, CLICKED, REPLIED, STATUS)
OUTCOMES = (DELIVERED, FAILED)

SYSTEM_EVENTS = {
    DELIVERED: "Notification Delivered",
    FAILED: "Notification Failed",
    CLICKED: "Notification Clicked",
    REPLIED: "Notification Replied",
    STATUS: "Provider Status",
}

ERROR_CODES = {
    "900": "Other",
    "901": "DND failure",
    "902": "Failed spam detected",
    "903": "Failed rejected blacklist",
    "904": "Failed system error",
    "905": "Failed subscriber error",
    "906": "Blocked by DLT",
    "907": "Entity blocked by DLT",
    "908": "Template blocked by DLT",
    "909": "Failed DLT consent error",
    "910": "Invalid subscriber",
    "912": "Message Inbox Full",
    "913": "NDNC Rejected",
    "914": "Undelivered",
    "915": "Dropped",
    "916": "Expired",
    "917": "Force Expired",
    "918": "Duplicate Message Drop",
    "919": "DLT Failure",
    "920": "URL not whitelisted",
    "30001": "Queue overflow",
    "30002": "Account suspended",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Carrier violation",
    "30008": "Unknown error",
    "30009": "Missing segment",
    "30010": "Message price exceeds the max price",
    "21614": "Invalid Mobile Number",
    "21610": "Unsubscribed recipient",
}


def error_description(code: str, sent: str) -> str:
    """The reference description of a known code; 900 ("Other") and unknown codes keep the
    description the provider sent (SPEC §6.4)."""
    if code in ERROR_CODES and code != "900":
        return ERROR_CODES[code]
    return sent or ERROR_CODES.get(code, "")


@dataclass(frozen=True)
class NormalizedEvent:
    """One callback record, whatever the provider's format. `meta` is our `$$MessageID` as
    received (empty for an inbound reply matched by number)."""

    type: str
    ts: datetime
    meta: str = ""
    code: str = ""
    description: str = ""
    url: str = ""
    short_url: str = ""
    text: str = ""
    from_phone: str = ""  # an inbound reply's sender, when there is no meta
    to_phone: str = ""  # an inbound reply's recipient; a report's recipient (SPEC §5.3)
    # The provider's own id of the message, for reports that do not echo our `meta` back:
    # matched to the message the provider answered it for (with `to_phone` when the
    # provider gave one id to every recipient of a request).
    provider_message_id: str = ""
    properties: dict = field(default_factory=dict)
    # The provider's own id of this report (Twilio: MessageSid + status), when it has one:
    # a repeat is then recognised by it, not by a time that may be the receipt time.
    identity: str = ""
