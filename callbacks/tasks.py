"""Celery tasks of the callbacks: thin wrappers."""

from __future__ import annotations

from celery import shared_task

from . import intake


@shared_task(name="callbacks.tasks.retry_failed")
def retry_failed() -> None:
    intake.retry_failed()
