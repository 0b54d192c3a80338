"""Finding 7: callback tokens were written to logs. Django's request log printed
"Not Found: /callbacks/sms/<token>/" and gunicorn's access log the request line; a retried
callback post's error (Celery) names the URL too. Every handler now redacts the token."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings
from gunicorn.glogging import SafeAtoms

from providers.models import new_callback_token
from smshub.logredact import RedactCallbackTokens, redact
from tests.campaigns.worker import wait_until
from tests.gunicorn import free_port
from tests.gunicorn import gunicorn as serve
from tests.providers.helpers import create_generic

ROOT = Path(__file__).resolve().parents[2]
REDACTED_PATH = "/callbacks/sms/[redacted]/"


@pytest.fixture
def console(caplog) -> io.StringIO:
    """What the console handler of settings.LOGGING writes during the test (with its filters
    and formatter: the real thing, only its stream swapped)."""
    handler = logging.getHandlerByName("console")
    assert handler is not None, "settings.LOGGING has no console handler"
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_it_redacts_the_token_of_an_unknown_callback_url_in_the_request_log(
    client, console, caplog, db
):
    token = new_callback_token()

    response = client.post(f"/callbacks/sms/{token}/", "[]", content_type="application/json")

    assert response.status_code == 404
    assert f"WARNING django.request Not Found: {REDACTED_PATH}" in console.getvalue()
    assert token not in console.getvalue()
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.status_code == 404
    assert token not in caplog.text
    assert record.request.path == REDACTED_PATH  # handlers that report the request get it too
    assert token not in str(record.request.META)


@pytest.mark.parametrize(
    ("body", "status"),
    [(b'{"not": "closed"', 400), (b"[" + b" " * 200 + b"]", 413)],
    ids=["bad-json", "too-large"],
)
def test_it_redacts_a_real_providers_token_on_a_refused_callback(
    client, console, caplog, db, settings, body, status
):
    settings.CALLBACK_MAX_BYTES = 100
    provider = create_generic()
    url = f"/callbacks/sms/{provider.callback_token}/"

    response = client.post(url, body, content_type="application/json")

    assert response.status_code == status
    assert REDACTED_PATH in console.getvalue()
    assert provider.callback_token not in console.getvalue()
    assert provider.callback_token not in caplog.text
    assert response.wsgi_request.path == url  # the request itself is left alone


def test_it_redacts_tokens_in_an_exceptions_traceback(console):
    token = new_callback_token()
    try:
        raise ConnectionError(f"Max retries exceeded with url: /callbacks/sms/{token}/ (refused)")
    except ConnectionError:
        logging.getLogger("sandbox.reports").exception("could not post")

    assert f"url: {REDACTED_PATH} (refused)" in console.getvalue()
    assert token not in console.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "POST /callbacks/sms/{token}/ HTTP/1.1",
        "https://hub.example/callbacks/sms/{token}?x=1",
        "/login/?next=%2Fcallbacks%2Fsms%2F{token}%2F",
        'GET /callbacks/sms/{token}/extra" 404',
    ],
)
def test_it_redacts_every_form_of_the_path(text):
    token = new_callback_token()

    redacted = redact(text.format(token=token))

    assert token not in redacted
    assert "[redacted]" in redacted


def test_it_leaves_other_paths_alone():
    assert redact("GET /l/AbCdEf123/ HTTP/1.1") == "GET /l/AbCdEf123/ HTTP/1.1"
    assert redact("/callbacks/sms/") == "/callbacks/sms/"


def test_it_redacts_gunicorns_access_atoms():
    token = new_callback_token()
    atoms = SafeAtoms({"r": f"POST /callbacks/sms/{token}/ HTTP/1.1", "s": 200})
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, "", 0, '"%(r)s" %(s)s %(x)s', (), None
    )
    record.args = atoms

    RedactCallbackTokens().filter(record)

    assert record.getMessage() == f'"POST {REDACTED_PATH} HTTP/1.1" 200 -'


def test_it_redacts_a_token_passed_as_an_argument_of_the_format():
    token = new_callback_token()
    record = logging.LogRecord(
        "x", logging.INFO, "", 0, "posted to /callbacks/sms/%s/ (%d%%)", (token, 5), None
    )

    RedactCallbackTokens().filter(record)

    assert record.getMessage() == f"posted to {REDACTED_PATH} (5%)"


# --- a real gunicorn, started as scripts/run starts it ---------------------------------------


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with the project's config and an access log (a file), on a fresh SQLite
    database that holds the sandbox provider; yields (base URL, its token, the log folder)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY": "gunicorn-log-test-" + "k" * 40,
        "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "INFO",
        "WHITENOISE_USE_FINDERS": "true",  # no collectstatic here
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "ensure_sandbox")
    token = manage(
        env, "shell", "--no-imports", "-c", "from providers.models import Provider; "
        "print(Provider.objects.get().callback_token)",
    )  # fmt: skip
    with (tmp_path / "stderr.log").open("w") as stderr, serve(
        env,
        port,
        "--workers", "1", "--threads", "2",
        "--access-logfile", str(tmp_path / "access.log"),
        "--error-logfile", str(tmp_path / "error.log"),
        stderr=stderr,
    ) as base:  # fmt: skip
        yield base, token, tmp_path


def test_it_redacts_tokens_in_gunicorns_access_log_and_the_apps_log(gunicorn):
    base, token, logs = gunicorn
    event = [{"event": "delivered", "data": [{"ts": 1, "meta": "unknown", "description": "ok"}]}]

    accepted = requests.post(f"{base}/callbacks/sms/{token}/", json=event, timeout=10)
    refused = requests.post(f"{base}/callbacks/sms/{token}/", data=b"{", timeout=10)
    unknown = requests.post(f"{base}/callbacks/sms/{token[:-1]}x/", json=event, timeout=10)
    redirected = requests.get(f"{base}/callbacks/sms/{token}", timeout=10)
    wait_until(lambda: (logs / "access.log").read_text().count("\n") >= 5, timeout=5)

    assert [accepted.status_code, refused.status_code, unknown.status_code] == [200, 400, 404]
    assert redirected.history[0].status_code == 301
    access = (logs / "access.log").read_text()
    assert f'"POST {REDACTED_PATH} HTTP/1.1" 200' in access
    assert f'"POST {REDACTED_PATH} HTTP/1.1" 404' in access
    assert '"GET /callbacks/sms/[redacted] HTTP/1.1" 301' in access
    app_log = (logs / "stderr.log").read_text() + (logs / "error.log").read_text()
    assert f"Not Found: {REDACTED_PATH}" in app_log
    for text in (access, app_log):
        assert token not in text
        assert token[:-1] not in text


def test_it_redacts_tokens_in_a_celery_workers_log():
    """A worker logs through handlers of its own; a retried sandbox post's error names the
    callback URL."""
    from celery.signals import after_setup_logger

    logger = logging.getLogger("tests.celery-worker")
    stream = io.StringIO()
    logger.addHandler(logging.StreamHandler(stream))
    token = new_callback_token()

    after_setup_logger.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None)
    logger.warning("Retry in 5s: TryAgain('ConnectionError: url: /callbacks/sms/%s/')", token)

    assert stream.getvalue() == f"Retry in 5s: TryAgain('ConnectionError: url: {REDACTED_PATH}')\n"
