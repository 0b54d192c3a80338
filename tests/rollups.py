"""Tests that make messages by hand (not through dispatch or callbacks) settle the stats
rollups afterwards, so the check after each test (tests/conftest.py) compares only what the
code under test changed."""

from __future__ import annotations


def settle() -> None:
    from stats import rebuild

    rebuild.rebuild()
