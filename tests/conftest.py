"""Plain fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.roles import ADMIN, MARKETER
from accounts.users import create_user

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Many tests create users; the production hasher would cost ~0.5 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "http://testserver"
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    settings.ENCRYPTION_KEYS = ["n3DgMVo7iPmWd9bTBXcDv9cQjQv2yX0pY5gF3kqgJ8c="]
    # Serve static files from the source folders (no collectstatic in tests).
    settings.STATIC_ROOT = None
    settings.WHITENOISE_USE_FINDERS = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_user(db):
    return create_user("alice", "alice@example.com", PASSWORD, ADMIN)


@pytest.fixture
def marketer_user(db):
    return create_user("mark", "mark@example.com", PASSWORD, MARKETER)


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def marketer_client(marketer_user) -> Client:
    client = Client()
    client.force_login(marketer_user)
    return client


def pytest_report_header(config) -> list[str]:
    """Say which database and broker this run uses (CI runs the suite on two setups)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    return [f"smshub: database={database['ENGINE'].rsplit('.', 1)[-1]}, broker={broker}"]
