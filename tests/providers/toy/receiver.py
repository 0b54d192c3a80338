"""Toy SMS posts one delivery report per request: {"ref", "state", "error", "at"}, signed
with X-Toy-Signature = hex HMAC-SHA256 of the body under the API key."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from callbacks.events import DELIVERED, FAILED, NormalizedEvent
from callbacks.receivers.base import Parsed, Receiver, Rejected
from smshub import jsonsafe

STATES = {"delivered": DELIVERED, "failed": FAILED}


def signature(api_key: str, body: bytes) -> str:
    return hmac.new(api_key.encode(), body, hashlib.sha256).hexdigest()


class ToyReceiver(Receiver):
    signature_header = "X-Toy-Signature"

    def parse(self, request, provider) -> Parsed:
        body = bytes(request.body)
        key = (provider.readable_secrets() or {}).get("api_key", "")
        if not key or not hmac.compare_digest(signature(key, body), request.signature):
            raise Rejected(403, "Forbidden: the X-Toy-Signature does not match.")
        try:
            report = jsonsafe.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Rejected(400, f"Bad request. The body is not valid JSON: {exc}.") from exc
        if not isinstance(report, dict):
            raise Rejected(400, "Bad request. A report is a JSON object.")
        missing = [name for name in ("ref", "state", "at") if not report.get(name)]
        if missing:
            raise Rejected(400, "Bad request. Some mandatory parameter was missing.", missing)
        if report["state"] not in STATES or not isinstance(report["at"], int):
            raise Rejected(400, "Bad request. Unknown state or time.")
        event = NormalizedEvent(
            STATES[report["state"]],
            datetime.fromtimestamp(report["at"], tz=UTC),
            meta=str(report["ref"]),
            code="914" if report["state"] == "failed" else "",
            description=str(report.get("error") or ""),
        )
        return Parsed([event])
