"""The provider list and its ⋯ actions: default, archive, delete (SPEC §2.1, §2.3)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from audit.models import AuditEntry
from providers.models import Provider

from .helpers import screenshot

pytestmark = pytest.mark.browser

LIST = "/settings/channels/sms/providers/"


def make_provider(nickname: str, kind: str = "generic", *, is_default: bool = False) -> Provider:
    config = {"generic": {"endpoint": "https://api.example.com/send"}}.get(kind, {})
    return Provider.objects.create(
        kind=kind, nickname=nickname, config=config, is_default=is_default
    )


def row(page: Page, table: str, nickname: str):
    return page.get_by_role("table", name=table).get_by_role("row").filter(has_text=nickname)


def open_menu(page: Page, nickname: str) -> None:
    page.get_by_label(f"Actions for {nickname}").click()


@pytest.fixture
def providers(site):
    return (
        make_provider("Acme SMS", is_default=True),
        make_provider("Twilio US", kind="twilio"),
        make_provider("Old Gateway"),
    )


def test_it_moves_the_default_badge(admin_page, providers):
    page = admin_page
    acme, twilio, _ = providers
    page.goto(LIST)
    expect(row(page, "Active providers", "Acme SMS").get_by_text("Default")).to_be_visible()
    expect(row(page, "Active providers", "Twilio US").get_by_text("Active")).to_be_visible()

    open_menu(page, "Twilio US")
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem")).to_have_text(
        ["Edit settings", "Send Test SMS", "Mark as Default", "Archive", "Delete"]
    )
    screenshot(page, "providers-list-menu")
    menu.get_by_role("menuitem", name="Mark as Default").click()

    expect(page.get_by_role("status")).to_have_text("“Twilio US” is now the default provider.")
    expect(row(page, "Active providers", "Twilio US").get_by_text("Default")).to_be_visible()
    expect(row(page, "Active providers", "Acme SMS").get_by_text("Active")).to_be_visible()
    # The default is listed first; its menu no longer offers to make it the default.
    expect(
        page.get_by_role("table", name="Active providers").get_by_role("row").nth(1)
    ).to_contain_text("Twilio US")
    open_menu(page, "Twilio US")
    expect(page.get_by_role("menuitem", name="Mark as Default")).to_have_count(0)
    assert list(Provider.objects.filter(is_default=True)) == [twilio]
    acme.refresh_from_db()
    assert not acme.is_default
    assert AuditEntry.objects.filter(action="marked default", object_id=twilio.pk).exists()


def test_it_archives_a_provider_after_confirmation(admin_page, providers):
    page = admin_page
    old = providers[2]
    page.goto(LIST)
    open_menu(page, "Old Gateway")
    page.get_by_role("menuitem", name="Archive").click()
    expect(page.get_by_role("heading", name="Archive “Old Gateway”?")).to_be_visible()
    screenshot(page, "provider-confirm-archive")

    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name="SMS providers")).to_be_visible()
    old.refresh_from_db()
    assert not old.is_archived

    open_menu(page, "Old Gateway")
    page.get_by_role("menuitem", name="Archive").click()
    page.get_by_role("button", name="Archive provider").click()

    expect(page.get_by_role("status")).to_have_text("“Old Gateway” archived.")
    expect(page.get_by_role("heading", name="Archived")).to_be_visible()
    expect(row(page, "Archived providers", "Old Gateway").get_by_text("Archived")).to_be_visible()
    expect(row(page, "Active providers", "Old Gateway")).to_have_count(0)
    expect(page.get_by_label("Actions for Old Gateway")).to_have_count(0)
    screenshot(page, "providers-list-active-and-archived")
    old.refresh_from_db()
    assert old.is_archived


def test_it_deletes_a_provider_after_typing_its_nickname(admin_page, providers):
    page = admin_page
    acme = providers[0]
    page.goto(LIST)
    open_menu(page, "Acme SMS")
    page.get_by_role("menuitem", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete “Acme SMS”?")).to_be_visible()

    page.get_by_label("Type Acme SMS to confirm").fill("Acme")
    page.get_by_role("button", name="Delete provider").click()
    expect(page.get_by_text("Type the provider's nickname exactly to confirm.")).to_be_visible()
    expect(page.get_by_label("Type Acme SMS to confirm")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "provider-confirm-delete-error")
    assert Provider.objects.filter(pk=acme.pk).exists()

    page.get_by_label("Type Acme SMS to confirm").fill("Acme SMS")
    page.get_by_role("button", name="Delete provider").click()

    expect(page.get_by_role("status")).to_have_text("“Acme SMS” deleted.")
    expect(row(page, "Active providers", "Acme SMS")).to_have_count(0)
    assert not Provider.objects.filter(pk=acme.pk).exists()
    # The oldest remaining provider became the default.
    expect(row(page, "Active providers", "Twilio US").get_by_text("Default")).to_be_visible()

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="Deleted provider “Acme SMS”")).to_be_visible()
