"""Opt-out state per phone number (SPEC §4, §6.5): STOP-like replies opt a number out of every
audience, START-like replies opt it back in. The keyword lists are settings."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from .models import OptOut
from .phones import InvalidPhone, normalize

logger = logging.getLogger(__name__)

OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"


def _keywords(words: list[str]) -> set[str]:
    return {word.strip().casefold() for word in words}


def keyword_action(text: str | None) -> str | None:
    """OPTED_OUT or OPTED_IN when the whole text, trimmed and case-folded, is one of the
    keywords; None otherwise ("stop it" or "STOP." are not keywords)."""
    word = (text or "").strip().casefold()
    if word in _keywords(settings.OPT_OUT_KEYWORDS):
        return OPTED_OUT
    if word in _keywords(settings.OPT_IN_KEYWORDS):
        return OPTED_IN
    return None


def apply_reply(phone: str, text: str | None) -> str | None:
    """Apply a reply from `phone`: a keyword opts the number out (or back in). Returns
    OPTED_OUT / OPTED_IN when the reply was a keyword (the number's state now matches it,
    whatever it was), None when it was not, or the number is not a valid phone number."""
    action = keyword_action(text)
    if action is None:
        return None
    try:
        number = normalize(phone, settings.DEFAULT_COUNTRY)
    except InvalidPhone:
        logger.warning("opt-out keyword from an invalid number %r ignored", phone)
        return None
    if action == OPTED_OUT:
        # One statement, so two replies arriving together cannot collide.
        OptOut.objects.bulk_create(
            [OptOut(phone=number, opted_out_at=timezone.now(), keyword=text.strip().upper()[:20])],
            update_conflicts=True,
            unique_fields=["phone"],
            update_fields=["opted_out_at", "keyword"],
        )
    else:
        OptOut.objects.filter(phone=number).delete()
    return action


def is_opted_out(phone: str) -> bool:
    """Whether the number (E.164) asked not to be texted."""
    return OptOut.objects.filter(phone=phone).exists()
