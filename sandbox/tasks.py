"""Celery tasks of the sandbox: thin wrappers."""

from __future__ import annotations

from celery import shared_task

from . import reports

MAX_RETRIES = 5
RETRY_BASE = 5.0  # seconds before the first retry; doubled for each next one


@shared_task(bind=True, name="sandbox.tasks.post_callbacks", max_retries=MAX_RETRIES)
def post_callbacks(
    self, provider_id: int, messages: list[dict], received_ms: int, style: str = ""
) -> None:
    """Post the callbacks of one send request's messages (in the reference's format, or the
    `style` the sandbox provider asked for); retried with backoff while the endpoint cannot
    take them."""
    try:
        reports.post(provider_id, messages, received_ms, style)
    except reports.TryAgain as exc:
        raise self.retry(exc=exc, countdown=RETRY_BASE * 2**self.request.retries) from exc
