"""What each message of a campaign says: the body personalised from the recipient's contact
attributes (campaigns/personalize.py), its links tracked (SPEC §4.1), and the Template
Variables and the provider's custom replacements, campaign-wide or per recipient (SPEC §3.1,
§4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse

from providers.templating import TEMPLATE_VARIABLES, campaign_values, message_values

from . import links, personalize
from .models import Campaign


def link_base() -> str:
    """Tracked links point at the hub: SITE_URL/l/<code>."""
    return settings.SITE_URL + reverse("tracked-link", args=["x"])[:-1]


class Composer:
    """Built once per campaign and worker; `message_values` runs per recipient."""

    def __init__(self, campaign: Campaign):
        self.body = campaign.body
        self.tracking = campaign.click_tracking
        self.link_base = link_base()
        custom = campaign.custom_values or {}
        # A custom value or the Template Variables naming an attribute ({customer_id}) are
        # personalised per message; the reference uses $$TemplateVariables per user.
        variables = template_variables(campaign.template_variables)
        templates = {**custom, TEMPLATE_VARIABLES: variables}
        self.personal_tokens = {
            token: template for token, template in templates.items() if personalize.names(template)
        }
        shared = {
            token: personalize.render(template, {})
            for token, template in custom.items()
            if token not in self.personal_tokens
        }
        self.shared_values = campaign_values(
            str(campaign.pk),
            template_id=campaign.template_id,
            template_variables=personalize.render(variables, {}),
            custom=shared,
        )

    def message_values(self, message_id: int, attributes: Mapping[str, Any] | None) -> dict:
        attributes = attributes or {}
        body = personalize.render(self.body, attributes)
        if self.tracking:
            body = links.track(body, message_id, self.link_base)
        personal = {
            token: personalize.render(template, attributes)
            for token, template in self.personal_tokens.items()
        }
        return message_values(message_id, body, personal)


def template_variables(text: str) -> str:
    """The campaign's Template Variables as a template. Those saved before they were
    personalised may hold bare braces (a JSON object, say) that the form now refuses: they go
    out exactly as typed, as they did then, rather than fail every message."""
    try:
        personalize.validate(text)
    except personalize.TemplateError:
        return text.replace("{", "{{").replace("}", "}}")
    return text
