"""The health check for load balancers (SPEC §10): database and broker reachable."""

from __future__ import annotations

import pytest
from django.db import connection

from smshub.celery import app as celery_app

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def point_the_broker_at_a_closed_port(monkeypatch) -> None:
    # Nothing listens on port 1: the connection is refused at once. Celery lets the
    # CELERY_BROKER_URL environment variable win over its configuration (CI sets it).
    # (Configuration first: its current value reads the environment, and is what comes back.)
    monkeypatch.setattr(celery_app.conf, "broker_url", CLOSED_PORT_BROKER)
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_PORT_BROKER)


@pytest.fixture
def broker_down(monkeypatch):
    point_the_broker_at_a_closed_port(monkeypatch)


def test_it_answers_ok_without_login(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_it_is_never_cached(client, db):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_it_answers_503_when_the_broker_is_unreachable(client, db, broker_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


def test_it_answers_503_when_the_database_is_unreachable(client, db, monkeypatch):
    def refuse():
        raise OSError("connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", refuse)
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable", "broker": "ok"}


def test_it_answers_ok_again_once_the_broker_is_back(client, db, monkeypatch):
    point_the_broker_at_a_closed_port(monkeypatch)
    assert client.get("/healthz").status_code == 503

    monkeypatch.undo()

    assert client.get("/healthz").status_code == 200


def test_it_answers_only_the_health_check_without_login(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
