"""What an admin sees when sending through a provider goes wrong (SPEC §3.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from providers.models import Provider
from tests.providers.helpers import create_generic

from .helpers import screenshot

pytestmark = pytest.mark.browser

LIST = "/settings/channels/sms/providers/"


def test_it_shows_failing_authentication_and_the_last_error(admin_page, site):
    now = timezone.now()
    failing = create_generic(None, nickname="Acme OAuth", endpoint="https://api.example.com/s")
    Provider.objects.filter(pk=failing.pk).update(
        auth_failing_since=now - timedelta(minutes=12),
        last_error="Authentication failing: token endpoint answered HTTP 503",
        last_error_at=now - timedelta(minutes=3),
    )
    refused = create_generic(None, nickname="Cheap SMS", endpoint="https://api.example.org/s")
    Provider.objects.filter(pk=refused.pk).update(
        last_error="HTTP 402: no credit left on this account", last_error_at=now
    )
    create_generic(None, nickname="Quiet SMS", endpoint="https://api.example.net/s")
    page = admin_page

    page.goto(LIST)
    table = page.get_by_role("table", name="Active providers")
    acme = table.get_by_role("row").filter(has_text="Acme OAuth")
    expect(acme.get_by_text("Authentication failing", exact=True)).to_be_visible()
    expect(acme).to_contain_text("3 minutes ago")
    cheap = table.get_by_role("row").filter(has_text="Cheap SMS")
    expect(cheap).to_contain_text("HTTP 402: no credit left")
    expect(table.get_by_role("row").filter(has_text="Quiet SMS")).to_contain_text("None")
    screenshot(page, "provider-list-health")

    page.get_by_role("link", name="Acme OAuth").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Authentication failing since")
    expect(alert).to_contain_text("tried again every 2 minutes, for up to 60 minutes")
    screenshot(page, "provider-setup-auth-failing")
