"""The sandbox provider's endpoint (SPEC §3.6): takes a batch of messages like a provider's
API would, answers with its own message ids, and schedules their callbacks."""

from __future__ import annotations

import time
from dataclasses import asdict

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import inbound, native, services
from .keys import HEADER, is_valid
from .simulate import provider_message_id
from .tasks import post_callbacks

MAX_BODY_BYTES = 5 * 1024 * 1024


def callback_delay() -> float:
    return settings.SANDBOX_CALLBACK_DELAY


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse(
        {"status": "error", "error_code": status, "message": message}, status=status
    )


@csrf_exempt
@login_not_required
@require_POST
def send(request):
    if not is_valid(request.headers.get(HEADER)):
        return _error(401, f"Missing or wrong {HEADER} header.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        messages = inbound.parse(body)
    except inbound.BadRequest as exc:
        return _error(400, str(exc))
    received_ms = int(time.time() * 1000)
    provider = services.provider_for(m.ref for m in messages)
    if provider is not None:
        # One task per request, whatever its size: the callbacks leave in a few batches.
        args = (provider.pk, [asdict(m) for m in messages], received_ms)
        style = request.headers.get(native.STYLE_HEADER, "")  # the second mode, if asked
        post_callbacks.apply_async(args + ((style,) if style else ()), countdown=callback_delay())
    return JsonResponse(
        {
            "accepted": len(messages),
            "messages": [{"ref": m.ref, "id": provider_message_id(m.ref)} for m in messages],
        }
    )
