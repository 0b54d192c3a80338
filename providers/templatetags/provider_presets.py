"""The preset a Generic setup form was filled from, for its page (SPEC §5.1)."""

from __future__ import annotations

from django import template

from providers.kinds.generic import presets

register = template.Library()


@register.simple_tag
def preset_of(form):
    """The form's preset (its hidden `preset` field), or None."""
    return presets.get(form["preset"].value())
