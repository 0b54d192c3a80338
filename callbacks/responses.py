"""The exact JSON answers of the callback endpoint (SPEC §6.3)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.http import JsonResponse

if TYPE_CHECKING:
    from .services import Counts


def success(counts: Counts) -> JsonResponse:
    return JsonResponse(
        {
            "status": "success",
            "message": "Callback processed successfully",
            "data": {
                "processed_events": counts.processed,
                "duplicate_events": counts.duplicates,
                "unmatched_events": counts.unmatched,
                "timestamp": int(time.time()),
            },
        }
    )


def bad_request(message: str, missing_fields: list[str]) -> JsonResponse:
    return JsonResponse(
        {
            "status": "error",
            "message": message,
            "error_code": 400,
            "details": {"missing_fields": missing_fields, "timestamp": int(time.time())},
        },
        status=400,
    )


def error(status: int, message: str) -> JsonResponse:
    """404, 405, 413, 500 and 503 share one shape."""
    return JsonResponse(
        {"status": "error", "message": message, "error_code": status}, status=status
    )


def server_error() -> JsonResponse:
    return error(500, "Server error")


def unavailable() -> JsonResponse:
    return error(503, "Service Unavailable")
