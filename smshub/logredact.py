"""Callback tokens never reach a log (SPEC §8).

A provider's callback token is the secret in its callback URL, `/callbacks/sms/<token>/`, and
that path turns up in log records: Django's `django.request` warnings ("Not Found: …"),
gunicorn's access log (its request line and path atoms), a client library's errors in a
traceback. `RedactCallbackTokens` is a logging filter that rewrites every such path in a
record to `/callbacks/sms/[redacted]/` before it is formatted; settings.LOGGING puts it on
every handler, smshub/gunicorn_conf.py on gunicorn's, smshub/celery.py on Celery's.
"""

from __future__ import annotations

import copy
import logging
import re

REDACTED = "[redacted]"
# The path segment after /callbacks/sms/, whatever it holds (a wrong token may be a near miss
# of the right one), up to the next delimiter. The slashes may be percent-encoded (a path
# quoted in a query string or a Referer).
_TOKEN_IN_PATH = re.compile(
    r"(/callbacks/sms/|%2Fcallbacks%2Fsms%2F)(?:(?!%2F)[^/?#&\s\"'])+", re.IGNORECASE
)
# Request attributes and WSGI variables that hold the path.
_REQUEST_PATHS = ("path", "path_info")


def redact(text: str) -> str:
    """`text` with every callback token replaced by [redacted]."""
    return _TOKEN_IN_PATH.sub(rf"\g<1>{REDACTED}", text)


def _redacted(value):
    return redact(value) if isinstance(value, str) else value


class RedactCallbackTokens(logging.Filter):
    """Rewrites the record in place, so every handler after this one sees it redacted too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()  # the token may be in the format or its arguments
        except Exception:  # a broken record: its handler reports it as it would have
            return True
        redacted = redact(message)
        if redacted != message:
            # Formatted once here: redacting the format alone could take a placeholder away.
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # An exception's message may hold a URL; formatters reuse a record's exc_text.
            text = logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:
                record.exc_text = redact(text)
        record.exc_text = _redacted(record.exc_text)
        record.stack_info = _redacted(record.stack_info)
        request = getattr(record, "request", None)
        if request is not None and isinstance(getattr(request, "META", None), dict):
            record.request = _redacted_request(request)
        return True


def _redacted_request(request):
    """A shallow copy of a Django request (django.request passes it to handlers, which may
    report its path and headers) with the token out of its paths and WSGI variables."""
    clone = copy.copy(request)
    for name in _REQUEST_PATHS:
        if isinstance(getattr(request, name, None), str):
            setattr(clone, name, redact(getattr(request, name)))
    clone.META = {key: _redacted(value) for key, value in request.META.items()}
    return clone


def install(logger: logging.Logger) -> None:
    """Put the filter on every handler of `logger` (once)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactCallbackTokens) for f in handler.filters):
            handler.addFilter(RedactCallbackTokens())
