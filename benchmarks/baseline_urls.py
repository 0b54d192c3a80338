"""The baselines' views: the least a Django view can do for the same request, served by
`benchmarks.baseline_wsgi` through the hub's own settings and middleware.

`generic_json` (B3) reads a generic callback's JSON and checks every record, as ours does
before anything else, and answers a success: no database at all.

`native_json` (B3n) decodes an Infobip-shaped report request and reads its items with the
same mapping ours uses (sandbox/native.py), and answers an empty 200: no database at all.

`twilio_form` (B4) stands for a Twilio status-callback endpoint with nothing of ours in it:
it parses the form body and inserts one CallbackRequest row through the ORM, then answers an
empty TwiML. No signature check, no event, no message update, no dedup look-up.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from callbacks.models import CallbackRequest, RequestStatus
from providers.kinds.generic import receiver as generic
from providers.kinds.generic import reports
from providers.models import Provider
from sandbox.native import MAPPING
from smshub.views import healthz

NATIVE = reports.ReportMapping.of(MAPPING)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
_providers: dict[str, int] = {}  # token → provider id, looked up once per process


def _provider_id(token: str) -> int:
    if token not in _providers:
        _providers[token] = Provider.objects.values_list("pk", flat=True).get(callback_token=token)
    return _providers[token]


@csrf_exempt
@login_not_required
def generic_json(request, token: str):
    events = generic.parse(request.body, max_records=settings.CALLBACK_MAX_RECORDS)
    return JsonResponse({"status": "success", "processed_events": len(events)})


@csrf_exempt
@login_not_required
def twilio_form(request, token: str):
    request.POST  # noqa: B018 - parsing the form is the point
    CallbackRequest.objects.create(
        provider_id=_provider_id(token),
        received_at=timezone.now(),
        content_type=request.content_type or "",
        query=request.META.get("QUERY_STRING", ""),
        body=request.body,  # kept by the form parse
        status=RequestStatus.PROCESSED,
        processed_events=1,
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@login_not_required
def native_json(request, token: str):
    received = timezone.now()
    reports.read(NATIVE, body=request.body, content_type="", query="", received_at=received)
    return HttpResponse(status=200)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("callbacks/native/<str:token>/", native_json, name="native-json"),
    path("callbacks/sms/<str:token>/", generic_json, name="generic-json"),
    path("callbacks/twilio/<str:token>/", twilio_form, name="twilio-form"),
]
