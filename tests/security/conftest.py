"""Fixtures of the security tests: a resolver the test controls, a session of its own."""

from __future__ import annotations

import socket
import uuid

import pytest

from smshub import http


class Resolver:
    """Names the test resolves, each with its answers in turn: the first lookup gets the first
    list of addresses, the next the next, every later one the last (DNS rebinding). Other
    names resolve as usual. `lookups` lists the names looked up."""

    def __init__(self):
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def answer(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)


@pytest.fixture
def dns(monkeypatch) -> Resolver:
    resolver = Resolver()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in resolver.answers:
            return real(host, port, *args, **kwargs)
        resolver.lookups.append(host)
        queue = resolver.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [info for address in addresses for info in real(address, port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return resolver


@pytest.fixture
def session_key():
    """A session of its own for the test, closed afterwards (sessions live per thread)."""
    key = f"security-{uuid.uuid4().hex}"
    yield key
    http.forget_session(key)
