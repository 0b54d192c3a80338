"""Opt-out and opt-in replies (SPEC §4): whole text, trimmed and case-folded, per number."""

from __future__ import annotations

import pytest

from audiences.models import OptOut
from audiences.optouts import OPTED_IN, OPTED_OUT, apply_reply, is_opted_out, keyword_action

pytestmark = pytest.mark.django_db

NUMBER = "+14155550123"


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "  Stop\n",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        "REVOKE",
        "OptOut",
    ],
)
def test_it_opts_a_number_out_on_each_stop_keyword(text):
    assert apply_reply(NUMBER, text) == OPTED_OUT

    assert is_opted_out(NUMBER)
    opt_out = OptOut.objects.get()
    assert opt_out.keyword == text.strip().upper()
    assert opt_out.opted_out_at is not None


@pytest.mark.parametrize("text", ["START", " unstop ", "Yes"])
def test_it_opts_a_number_back_in_on_each_start_keyword(text):
    apply_reply(NUMBER, "STOP")

    assert apply_reply(NUMBER, text) == OPTED_IN

    assert not is_opted_out(NUMBER)
    assert not OptOut.objects.exists()


@pytest.mark.parametrize("text", ["stop please", "STOP.", "Please stop", "", None, "S T O P", "no"])
def test_it_ignores_replies_that_are_not_exactly_a_keyword(text):
    assert apply_reply(NUMBER, text) is None

    assert not is_opted_out(NUMBER)


def test_it_keeps_one_opt_out_per_number_when_stop_comes_twice():
    apply_reply(NUMBER, "STOP")
    apply_reply(NUMBER, "quit")

    assert list(OptOut.objects.values_list("phone", "keyword")) == [(NUMBER, "QUIT")]


def test_it_opting_in_a_number_that_never_opted_out_changes_nothing():
    assert apply_reply(NUMBER, "YES") == OPTED_IN

    assert not OptOut.objects.exists()


def test_it_normalises_the_number_with_the_default_country(settings):
    settings.DEFAULT_COUNTRY = "GB"

    apply_reply("020 7946 0958", "STOP")

    assert is_opted_out("+442079460958")


def test_it_ignores_a_keyword_from_an_invalid_number():
    assert apply_reply("12", "STOP") is None

    assert not OptOut.objects.exists()


def test_it_reads_the_keywords_from_the_settings(settings):
    settings.OPT_OUT_KEYWORDS = ["ARRET", "Désabonner"]
    settings.OPT_IN_KEYWORDS = ["REPRENDRE"]

    assert keyword_action("arret") == OPTED_OUT
    assert keyword_action("DÉSABONNER") == OPTED_OUT
    assert keyword_action("STOP") is None
    assert apply_reply(NUMBER, "Arret") == OPTED_OUT
    assert apply_reply(NUMBER, "reprendre") == OPTED_IN
    assert not is_opted_out(NUMBER)


def test_it_casefolds_rather_than_lowercases(settings):
    settings.OPT_OUT_KEYWORDS = ["STRASSE"]

    assert keyword_action("straße") == OPTED_OUT
