"""The Celery application: configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from .logredact import install as redact_callback_tokens

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smshub.settings")

app = Celery("smshub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_callback_tokens(logger, **kwargs) -> None:
    """A worker logs through its own handlers, not settings.LOGGING's: a retried callback
    post's error names the callback URL, so they redact tokens too."""
    redact_callback_tokens(logger)
