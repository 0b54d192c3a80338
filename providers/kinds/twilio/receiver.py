"""Reading a Twilio callback (SPEC §6.6): status callbacks and inbound messages, form-encoded.

Twilio signs every request with the account's auth token (`X-Twilio-Signature`). A request
that reached our own callback URL must carry a valid signature; a request relayed from a
custom callback URL cannot (Twilio signed it for the relay's URL), so it is taken on the
strength of the secret callback token alone, as for Generic providers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import phonenumbers
from django.http import HttpResponse
from django.views.decorators.debug import sensitive_variables

from callbacks.events import DELIVERED, FAILED, REPLIED, STATUS, NormalizedEvent, error_description
from callbacks.receivers.base import REPLY_KEPT, Parsed, Receiver, Rejected

from ...models import Provider

FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
RECEIVED = "received"  # an inbound message, not a status of one of ours
FAILURES = ("failed", "undelivered")
DEFAULT_PORTS = {"https": 443, "http": 80}
DONE_DATE = re.compile(r"\d{10}")  # RawDlrDoneDate: YYMMDDhhmm, UTC

MISMATCH = "Forbidden: the X-Twilio-Signature does not match."
MISSING = "Forbidden: the X-Twilio-Signature header is missing."
UNREADABLE = (
    "Forbidden: the provider's auth token cannot be decrypted (was its ENCRYPTION_KEYS key "
    "removed?), so the X-Twilio-Signature cannot be checked. Save the auth token again."
)
NO_TOKEN = "Forbidden: the provider has no auth token to check the X-Twilio-Signature with."


class TwilioReceiver(Receiver):
    signature_header = "X-Twilio-Signature"

    def parse(self, request, provider: Provider) -> Parsed:
        event = parse(request, provider)
        if event.type == REPLIED:
            return Parsed(inbound=[event])
        return Parsed(events=[event])

    def success(self, parsed: Parsed) -> HttpResponse | None:
        """An inbound message gets an empty TwiML (no automatic reply); a status callback the
        JSON answer (Twilio ignores it, but it reads well in the request log)."""
        if parsed.inbound:
            return HttpResponse(EMPTY_TWIML, content_type="text/xml")
        return super().success(parsed)


def parse(row, provider: Provider) -> NormalizedEvent:
    """The request's one event, or Rejected: 400 when malformed, 403 when forged."""
    is_form = row.content_type.strip().lower() == FORM
    params = _form(row) if is_form else {}
    check_signature(row, provider, params)  # before saying anything about the content
    if not is_form:
        shown = row.content_type or "none"
        raise Rejected(
            400, f"Bad request. A Twilio callback is form-encoded ({FORM}), not {shown}."
        )
    fields = {name: values[0] for name, values in params.items()}  # Twilio sends each once
    status = _status(fields)
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    missing = [
        name for name, value in (("MessageStatus", status), ("MessageSid", sid)) if not value
    ]
    if status == RECEIVED and not fields.get("From", "").strip():
        missing.append("From")
    if missing:
        raise Rejected(400, "Bad request. Some mandatory parameter was missing.", missing)

    # A delivery report's own time when it has one, else the receipt time; a repeat is
    # recognised by the message's sid and the status, whatever its time (SPEC §6.5).
    ts = _done_date(fields.get("RawDlrDoneDate", "")) or row.received_at
    properties = {"status": status, "sid": sid}
    identity = f"{sid}:{status}"
    if status == RECEIVED:
        # Inbound: no meta even if the URL carries one; matched by the sender's number.
        event = NormalizedEvent(
            REPLIED,
            ts,
            text=fields.get("Body", "").strip()[:REPLY_KEPT],
            from_phone=_phone(fields["From"]),
            to_phone=fields.get("To", "").strip(),
            properties=properties,
            identity=identity,
        )
    else:
        meta = _meta(row, fields)
        if status == DELIVERED:
            event = NormalizedEvent(DELIVERED, ts, meta, properties=properties, identity=identity)
        elif status in FAILURES:
            code = fields.get("ErrorCode", "").strip()
            description = error_description(code, fields.get("ErrorMessage", "").strip())
            event = NormalizedEvent(
                FAILED,
                ts,
                meta,
                code=code,
                description=description,
                properties=properties,
                identity=identity,
            )
        else:  # queued, sending, sent, accepted, scheduled, read, canceled…: kept, not counted
            event = NormalizedEvent(STATUS, ts, meta, properties=properties, identity=identity)
    return event


# --- signature ---------------------------------------------------------------------------------
@sensitive_variables()
def check_signature(row, provider: Provider, params: dict) -> None:
    """Raise Rejected (403) unless the request carries Twilio's signature of the URL it
    called. Skipped when a custom callback URL is configured: Twilio then calls the relay,
    whose URL we cannot know the signature of, and the relay calls us."""
    if provider.config.get("custom_callback_url"):
        return
    given = row.signature.strip()
    if not given:
        raise Rejected(403, MISSING)
    secrets = provider.readable_secrets()
    if secrets is None:
        raise Rejected(403, UNREADABLE)
    token = secrets.get("auth_token", "")
    if not token:
        raise Rejected(403, NO_TOKEN)
    matches = [
        hmac.compare_digest(signature(token, url, params).encode(), given.encode())
        for url in signed_urls(row, provider)
    ]
    if not any(matches):
        raise Rejected(403, MISMATCH)


@sensitive_variables()
def signature(token: str, url: str, params: dict[str, list[str]]) -> str:
    """base64(HMAC-SHA1(auth token, URL + every POST parameter's name and value, by name))."""
    data = url + "".join(name + value for name in sorted(params) for value in sorted(params[name]))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_urls(row, provider: Provider) -> list[str]:
    """The URLs Twilio may have signed: our public callback URL (SITE_URL, right behind a
    proxy) with the query it was called with, and the URL as Django saw it (right without
    SITE_URL); each with and without the scheme's standard port, as Twilio's libraries try."""
    ours = provider.callback_url + (f"?{row.query}" if row.query else "")
    urls: list[str] = []
    for url in (ours, row.url):
        for variant in _port_variants(url) if url else ():
            if variant not in urls:
                urls.append(variant)
    return urls


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return [url]
    if default is None or port not in (None, default):
        return [url]  # a non-standard port is part of the URL Twilio called
    if port is None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    else:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    return [url, other.geturl()]


# --- fields ------------------------------------------------------------------------------------
def _form(row) -> dict[str, list[str]]:
    try:
        text = bytes(row.body).decode("utf-8")
        return parse_qs(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise Rejected(400, f"Bad request. The form body is not valid UTF-8: {exc}.") from exc


def _status(fields: dict[str, str]) -> str:
    """MessageStatus, or the legacy SmsStatus; an inbound message relayed without either is
    recognised by its Body."""
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
    if not status and "Body" in fields:
        return RECEIVED
    return status


def _meta(row, fields: dict[str, str]) -> str:
    """Our StatusCallback carries `meta` in its query; a relay forwards it as a field. The
    query wins: on our own URL it is covered by Twilio's signature."""
    in_query = parse_qs(row.query, keep_blank_values=True).get("meta", [""])[0]
    return (in_query or fields.get("meta", "")).strip()


def _done_date(value: str) -> datetime | None:
    """The carrier's done date (YYMMDDhhmm, UTC), or None when absent or not a real date."""
    value = value.strip()
    if not DONE_DATE.fullmatch(value):
        return None
    try:
        return datetime.strptime(value, "%y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None


def _phone(text: str) -> str:
    """E.164 when the sender is written as an international number; otherwise as given
    (short codes, alphanumeric senders, channel addresses)."""
    text = text.strip()
    if not text.startswith("+"):
        return text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
