"""manage.py ensure_sandbox: the sandbox provider, created once and kept in step (SPEC §3.6)."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from campaigns import retire
from providers import services as provider_services
from providers.kinds.generic.form import GenericProviderForm
from providers.models import Provider
from sandbox import services
from sandbox.keys import HEADER, sandbox_key
from tests.providers.helpers import create_generic

from .helpers import ensure_sandbox

pytestmark = pytest.mark.django_db


def test_it_creates_the_sandbox_provider_once():
    first = ensure_sandbox()
    provider = Provider.objects.get()
    second = ensure_sandbox()

    assert first == "Sandbox provider “Sandbox (simulated)”: created (the default provider).\n"
    assert second == "Sandbox provider “Sandbox (simulated)”: up to date.\n"
    assert list(Provider.objects.all()) == [provider]
    assert provider.nickname == "Sandbox (simulated)"
    assert provider.get_kind_display() == "Generic (HTTP)"
    assert provider.is_default
    assert AuditEntry.objects.filter(action="created").count() == 1


def test_it_configures_a_batched_json_provider_on_the_hubs_own_endpoint():
    ensure_sandbox()
    provider = Provider.objects.get()

    assert provider.config == {
        "request_type": "POST",
        "endpoint": "http://testserver/sandbox/sms/",
        "auth_type": "none",
        "basic_username": "",
        "oauth_client_url": "",
        "oauth_client_id": "",
        "oauth_extra": [],
        "headers": [[HEADER, ""]],
        "body_format": "json",
        "params": [],
        "json_body": services.JSON_BODY,
        "batching": True,
        "batch_key": "messages",
        "records_per_batch": 1000,
        "number_format": "e164",
        "success_rule": "$.accepted",
        "message_id_path": "$.messages[*].id",
        "rate_limit": None,
        "secret_rows": {"headers": [HEADER]},
    }
    assert provider.get_secrets() == {f"headers:{HEADER}": sandbox_key()}


def test_its_saved_configuration_passes_the_setup_form():
    ensure_sandbox()
    provider = Provider.objects.get()

    form = GenericProviderForm(
        services.form_data(provider.nickname, provider.config), provider=provider
    )

    assert form.is_valid(), form.errors
    assert form.to_config() == provider.config


def test_it_leaves_the_default_to_an_existing_provider():
    acme = create_generic(None, nickname="Acme")

    output = ensure_sandbox()

    sandbox = services.find_provider()
    assert output == (
        "Sandbox provider “Sandbox (simulated)”: created (another provider is the default).\n"
    )
    assert not sandbox.is_default
    assert Provider.objects.get(pk=acme.pk).is_default


def test_it_follows_a_new_site_url(settings):
    ensure_sandbox()
    settings.SITE_URL = "https://sms.example.com"

    output = ensure_sandbox()

    provider = Provider.objects.get()
    assert output == (
        "Sandbox provider “Sandbox (simulated)”: "
        "endpoint now https://sms.example.com/sandbox/sms/.\n"
    )
    assert provider.config["endpoint"] == "https://sms.example.com/sandbox/sms/"
    assert provider.callback_url.startswith("https://sms.example.com/callbacks/sms/")
    assert AuditEntry.objects.filter(action="updated").count() == 1


def test_it_renews_the_key_after_secret_key_changed(settings):
    ensure_sandbox()
    settings.SECRET_KEY = "another-secret-key-" + "y" * 40

    output = ensure_sandbox()

    provider = Provider.objects.get()
    assert output == "Sandbox provider “Sandbox (simulated)”: key renewed (SECRET_KEY changed).\n"
    assert provider.config["headers"] == [[HEADER, ""]]
    assert provider.get_secrets() == {f"headers:{HEADER}": sandbox_key()}


def test_it_keeps_an_admins_changes(settings):
    ensure_sandbox()
    provider = Provider.objects.get()
    config = {**provider.config, "records_per_batch": 250, "rate_limit": 5.0}
    form = GenericProviderForm(services.form_data("My sandbox", config), provider=provider)
    assert form.is_valid(), form.errors
    provider_services.save_from_form(form, None)
    settings.SITE_URL = "https://sms.example.com"

    ensure_sandbox()

    provider.refresh_from_db()
    assert provider.nickname == "My sandbox"
    assert provider.config["records_per_batch"] == 250
    assert provider.config["rate_limit"] == 5.0
    assert provider.config["endpoint"] == "https://sms.example.com/sandbox/sms/"
    assert Provider.objects.count() == 1


def test_it_does_not_bring_back_a_sandbox_an_admin_deleted(admin_user):
    ensure_sandbox()
    retire.delete_provider(Provider.objects.get(), admin_user)

    output = ensure_sandbox()

    assert not Provider.objects.exists()
    assert output.startswith("Sandbox provider: deleted or changed by an admin, not recreated")

    ensure_sandbox("--recreate")
    assert Provider.objects.get().nickname == "Sandbox (simulated)"


def test_it_leaves_an_archived_sandbox_alone(admin_user, settings):
    ensure_sandbox()
    retire.archive_provider(Provider.objects.get(), admin_user)
    settings.SITE_URL = "https://sms.example.com"

    output = ensure_sandbox()

    provider = Provider.objects.get()
    assert output == "Sandbox provider “Sandbox (simulated)”: archived, left alone.\n"
    assert provider.config["endpoint"] == "http://testserver/sandbox/sms/"


def test_it_says_why_it_cannot_create_it():
    create_generic(None, nickname="sandbox (SIMULATED)")

    output = ensure_sandbox()

    assert output == (
        "Sandbox provider “Sandbox (simulated)”: not created — "
        "nickname: Another provider already uses this nickname.\n"
    )
    assert Provider.objects.count() == 1


def test_it_warns_when_the_ssrf_guard_blocks_the_hubs_own_address(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.BLOCK_PRIVATE_ADDRESSES = True

    output = ensure_sandbox()

    created, warning = output.splitlines()
    assert created.endswith("created (the default provider).")
    assert warning.startswith("Warning: BLOCK_PRIVATE_ADDRESSES is on and 127.0.0.1 resolves")
    assert "will not call its own sandbox endpoint" in warning
