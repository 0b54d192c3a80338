"""The sandbox provider as `ensure_sandbox` creates it, and send requests to its endpoint."""

from __future__ import annotations

import json

from django.core.management import call_command

from providers.models import Provider
from sandbox import services
from sandbox.keys import HEADER, sandbox_key


def ensure_sandbox(*args) -> str:
    """Run the command; its output."""
    from io import StringIO

    out = StringIO()
    call_command("ensure_sandbox", *args, stdout=out)
    return out.getvalue()


def sandbox_provider() -> Provider:
    ensure_sandbox()
    provider = services.find_provider()
    assert provider is not None
    return provider


def send(client, messages, *, key: str | None = "valid", sender="SMSHUB"):
    body = (
        messages
        if isinstance(messages, (bytes, str))
        else json.dumps({"sender": sender, "messages": messages})
    )
    headers = {} if key is None else {HEADER: sandbox_key() if key == "valid" else key}
    return client.post("/sandbox/sms/", body, content_type="application/json", headers=headers)
