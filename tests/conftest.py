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
    # Providers in tests are local servers: the SSRF guard (on without DEBUG) would refuse them.
    settings.BLOCK_PRIVATE_ADDRESSES = False
    # Serve static files from the source folders (no collectstatic in tests).
    settings.STATIC_ROOT = None
    settings.WHITENOISE_USE_FINDERS = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


DATABASE_FIXTURES = ("transactional_db", "db", "live_server")


@pytest.fixture(autouse=True)
def rollups_match_recompute(request):
    """After every test that touched the database: the stats rollups kept up to date as
    messages and events changed equal a rebuild from those messages and events (SPEC §7)."""
    used = [name for name in DATABASE_FIXTURES if name in request.fixturenames]
    if not used or request.node.get_closest_marker("no_rollup_check"):
        yield
        return
    request.getfixturevalue("db" if "db" in used else "transactional_db")
    yield
    from stats import rebuild

    assert rebuild.snapshot() == rebuild.recompute(), "rollups differ from a recompute"


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
