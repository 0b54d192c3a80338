"""Provider setup pages (SPEC §2, §8): who may see them, and what each operation changes."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry
from campaigns import retire
from providers import services
from providers.models import Provider

from .helpers import create_generic, create_twilio, generic_data, twilio_data

BASE = "/settings/channels/sms/providers/"
AUDIT_LOG = "/settings/audit-log/"
FRIENDLY_403 = "You don't have access to this page"
HX = {"HTTP_HX_REQUEST": "true"}
FORM = "application/x-www-form-urlencoded"
RELAY = "https://relay.example.com/twilio/status"


@pytest.fixture
def provider(admin_user):
    return create_generic(admin_user, nickname="Acme SMS")


@pytest.fixture
def other(provider, admin_user):
    return create_generic(admin_user, nickname="Backup SMS")


def reload(provider: Provider) -> Provider:
    return Provider.objects.get(pk=provider.pk)


def post_add(client: Client, data, kind: str = "generic", **extra):
    return client.post(f"{BASE}add/{kind}/", data.urlencode(), content_type=FORM, **extra)


# --- access -------------------------------------------------------------------------------

PAGES = [
    ("get", BASE),
    ("get", BASE + "add/"),
    ("get", BASE + "add/generic/"),
    ("post", BASE + "add/generic/"),
    ("get", BASE + "add/twilio/"),
    ("post", BASE + "add/twilio/"),
    ("get", BASE + "{pk}/"),
    ("post", BASE + "{pk}/"),
    ("post", BASE + "{pk}/default/"),
    ("get", BASE + "{pk}/archive/"),
    ("post", BASE + "{pk}/archive/"),
    ("get", BASE + "{pk}/delete/"),
    ("post", BASE + "{pk}/delete/"),
    ("post", BASE + "{pk}/rotate-callback/"),
    ("get", AUDIT_LOG),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, provider, method, url):
    url = url.format(pk=provider.pk)
    data = {"confirm_nickname": "Acme SMS"} if method == "post" else {}

    response = getattr(client, method)(url, data)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"
    assert Provider.objects.filter(pk=provider.pk, archived_at=None).exists()


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_it_shows_marketers_a_friendly_403(marketer_client, provider, method, url):
    url = url.format(pk=provider.pk)
    token, audit_count = provider.callback_token, AuditEntry.objects.count()

    response = getattr(marketer_client, method)(
        url, {"confirm_nickname": "Acme SMS", "nickname": "Taken over"}
    )

    assert response.status_code == 403
    assert FRIENDLY_403 in response.content.decode()
    assert "Back to the overview" in response.content.decode()
    saved = reload(provider)
    assert (saved.nickname, saved.callback_token, saved.archived_at) == ("Acme SMS", token, None)
    assert Provider.objects.count() == 1
    assert AuditEntry.objects.count() == audit_count


@pytest.mark.parametrize(
    ("url", "text"),
    [
        (BASE, "SMS providers"),
        (BASE + "add/", "Add SMS provider"),
        (BASE + "add/generic/", "Add Generic (HTTP) provider"),
        (BASE + "add/twilio/", "Add Twilio provider"),
        (BASE + "{pk}/", "Acme SMS"),
        (BASE + "{pk}/archive/", "Archive “Acme SMS”?"),
        (BASE + "{pk}/delete/", "Delete “Acme SMS”?"),
        (AUDIT_LOG, "Audit log"),
    ],
)
def test_it_shows_admins_every_page(admin_client, provider, url, text):
    response = admin_client.get(url.format(pk=provider.pk))

    assert response.status_code == 200
    assert text in response.content.decode()


@pytest.mark.parametrize(
    ("url", "location"),
    [
        (BASE + "{pk}/default/", BASE),
        (BASE + "{pk}/archive/", BASE),
        (BASE + "{pk}/rotate-callback/", BASE + "{pk}/"),
    ],
)
def test_it_redirects_admins_after_an_operation(admin_client, provider, url, location):
    response = admin_client.post(url.format(pk=provider.pk))

    assert response.status_code == 302
    assert response["Location"] == location.format(pk=provider.pk)


@pytest.mark.parametrize("url", [BASE + "{pk}/default/", BASE + "{pk}/rotate-callback/"])
def test_it_refuses_a_get_on_post_only_operations(admin_client, provider, url):
    token = provider.callback_token

    response = admin_client.get(url.format(pk=provider.pk))

    assert response.status_code == 405
    assert reload(provider).callback_token == token


@pytest.mark.parametrize(
    "url",
    [
        BASE + "add/sandbox/",
        BASE + "999999/",
        BASE + "999999/archive/",
        BASE + "999999/delete/",
    ],
)
def test_it_answers_404_for_unknown_kinds_and_providers(admin_client, db, url):
    assert admin_client.get(url).status_code == 404


def test_it_lets_a_superuser_without_a_group_in(db, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)

    assert client.get(BASE).status_code == 200


# --- saving -------------------------------------------------------------------------------


def test_it_creates_a_provider_from_the_add_page(admin_client, admin_user):
    token = admin_client.get(BASE + "add/generic/").context["form"]["callback_token"].value()

    response = post_add(admin_client, generic_data(callback_token=token, headers=[("X-A", "1")]))

    provider = Provider.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{provider.pk}/"
    assert provider.get_kind_display() == "Generic (HTTP)"
    assert provider.nickname == "Acme SMS"
    assert provider.callback_token == token
    assert provider.is_default is True
    assert provider.config["endpoint"] == "https://api.example.com/sms"
    assert provider.config["headers"] == [["X-A", "1"]]
    followed = admin_client.get(response["Location"])
    assert "Provider “Acme SMS” saved." in followed.content.decode()


def test_it_creates_a_twilio_provider_from_the_add_page(admin_client):
    response = post_add(admin_client, twilio_data(), kind="twilio")

    provider = Provider.objects.get()
    assert response.status_code == 302
    assert provider.get_kind_display() == "Twilio"
    assert provider.get_secrets() == {"auth_token": "twilio-auth-token-0001"}


def test_it_shows_every_problem_and_saves_nothing(admin_client):
    response = post_add(admin_client, generic_data(endpoint="ftp://x", json_body="[]"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page
    assert "Please correct the fields marked below." in page
    assert "Enter an absolute http:// or https:// URL." in page
    assert "The JSON payload must be an object ({ … })." in page
    assert Provider.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_it_updates_a_provider_from_the_edit_page(admin_client, provider):
    data = generic_data(nickname="Acme SMS EU", endpoint="https://eu.example.com/sms")

    response = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert response.status_code == 302
    assert response["Location"] == f"{BASE}{provider.pk}/"
    saved = reload(provider)
    assert saved.nickname == "Acme SMS EU"
    assert saved.config["endpoint"] == "https://eu.example.com/sms"
    assert saved.callback_token == provider.callback_token
    assert Provider.objects.count() == 1


def test_it_does_not_update_a_provider_with_an_invalid_form(admin_client, provider, other):
    data = generic_data(nickname="backup sms", endpoint="https://eu.example.com/sms")

    response = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert response.status_code == 200
    assert "Another provider already uses this nickname." in response.content.decode()
    saved = reload(provider)
    assert (saved.nickname, saved.config) == ("Acme SMS", provider.config)


def test_it_adds_a_header_row_in_place_and_saves_nothing(admin_client):
    data = generic_data(headers=[("X-A", "1")], _action="add-row:headers")

    response = post_add(admin_client, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page
    assert page.count('name="headers-key"') == 2
    assert 'value="X-A"' in page
    assert "Please correct" not in page
    assert Provider.objects.count() == 0


def test_it_adds_a_row_to_an_empty_list(admin_client):
    response = post_add(admin_client, generic_data(_action="add-row:headers"))

    # No row posted means one blank row shown; adding one makes it one blank row posted.
    assert response.content.decode().count('name="headers-key"') == 1


def test_it_removes_a_header_row_in_place(admin_client, provider):
    data = generic_data(headers=[("X-A", "1"), ("X-B", "2")], _action="remove-row:headers:0")

    response = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('name="headers-key"') == 1
    assert 'value="X-B"' in page
    assert 'value="X-A"' not in page
    assert reload(provider).config["headers"] == []


def test_it_answers_htmx_with_the_form_fragment_only(admin_client):
    data = generic_data(headers=[("X-A", "1")], _action="add-row:headers")

    response = post_add(admin_client, data, **HX)

    page = response.content.decode().strip()
    assert response.status_code == 200
    assert "<html" not in page
    assert "<body" not in page
    assert page.startswith("<form")
    assert 'id="provider-form"' in page
    assert page.endswith("</form>")
    assert page.count('name="headers-key"') == 2
    assert Provider.objects.count() == 0


def test_it_refreshes_the_fields_of_the_chosen_authentication(admin_client):
    data = generic_data(auth_type="basic", _action="refresh")

    page = post_add(admin_client, data, **HX).content.decode()

    assert 'id="field-basic_username"' in page
    assert 'id="field-basic_password"' in page
    assert 'id="field-oauth_client_id"' not in page
    assert "This field is required." not in page


def test_it_answers_htmx_with_the_custom_tokens_only(admin_client):
    data = generic_data(headers=[("X-Hid", "$$hid")], json_body='{"u": "$$uid"}', _action="tokens")

    response = post_add(admin_client, data, **HX)

    page = response.content.decode().strip()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="provider-form"' not in page
    assert "Campaigns will ask for: <strong>hid, uid</strong>" in page


DLT_NOTE = (
    "$$TemplateID and $$EntityId apply to Indian (DLT) numbers: see the "
    '<a href="https://docs.clevertap.com/docs/regulation-impact#section-future-campaigns"'
)


def test_the_token_note_says_where_template_id_and_entity_id_apply(admin_client):
    page = admin_client.get(f"{BASE}add/generic/").content.decode()
    assert DLT_NOTE in page

    data = generic_data(json_body='{"tid": "$$TemplateID"}', _action="tokens")
    assert DLT_NOTE in post_add(admin_client, data, **HX).content.decode()


def test_it_answers_an_invalid_htmx_save_with_the_form_fragment(admin_client):
    response = post_add(admin_client, generic_data(nickname=""), **HX)

    page = response.content.decode().strip()
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert "<html" not in page
    assert page.startswith("<form")
    assert "This field is required." in page
    assert Provider.objects.count() == 0


def test_it_answers_a_successful_htmx_save_with_a_client_redirect(admin_client):
    response = post_add(admin_client, generic_data(), **HX)

    provider = Provider.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{BASE}{provider.pk}/"


def test_it_restores_our_twilio_callback_url_in_place(admin_client, admin_user):
    provider = create_twilio(admin_user, callback_url=RELAY)
    data = twilio_data(callback_url=RELAY, _action="restore-callback")

    response = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert response.status_code == 200
    assert response.context["form"]["callback_url"].value() == provider.callback_url
    assert f'value="{RELAY}"' not in response.content.decode()
    assert reload(provider).config["custom_callback_url"] == RELAY


def test_it_never_renders_a_saved_secret(admin_client, admin_user):
    provider = create_twilio(admin_user, auth_token="tw-secret-token-42")

    page = admin_client.get(f"{BASE}{provider.pk}/").content.decode()

    assert "tw-secret-token-42" not in page
    assert "Saved — leave blank to keep." in page


# --- the default provider -----------------------------------------------------------------


def defaults() -> list[str]:
    return list(Provider.objects.filter(is_default=True).values_list("nickname", flat=True))


def test_it_makes_the_first_provider_the_default(provider):
    assert defaults() == ["Acme SMS"]


def test_it_marks_another_provider_as_the_default(admin_client, admin_user, provider, other):
    response = admin_client.post(f"{BASE}{other.pk}/default/")

    assert response.status_code == 302
    assert defaults() == ["Backup SMS"]
    entry = AuditEntry.objects.first()
    assert (entry.actor, entry.action, entry.object_id) == (admin_user, "marked default", other.pk)
    assert entry.changes == {"is_default": [False, True]}


def test_it_does_nothing_when_the_default_is_marked_again(admin_client, provider):
    count = AuditEntry.objects.count()

    admin_client.post(f"{BASE}{provider.pk}/default/")

    assert defaults() == ["Acme SMS"]
    assert AuditEntry.objects.count() == count


def test_it_makes_a_provider_saved_as_default_the_only_default(admin_user, provider):
    create_generic(admin_user, nickname="New", is_default=True)

    assert defaults() == ["New"]


def test_it_keeps_a_default_when_the_default_is_unticked(admin_client, provider, other):
    data = generic_data(nickname="Acme SMS", is_default=False)

    admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert len(defaults()) == 1


def test_it_moves_the_default_when_the_default_is_archived(admin_client, provider, other):
    third = create_generic(None, nickname="Third SMS")

    admin_client.post(f"{BASE}{provider.pk}/archive/")

    assert defaults() == ["Backup SMS"]
    assert reload(third).is_default is False


def test_it_moves_the_default_when_the_default_is_deleted(admin_client, provider, other):
    admin_client.post(f"{BASE}{provider.pk}/delete/", {"confirm_nickname": "Acme SMS"})

    assert defaults() == ["Backup SMS"]


def test_it_leaves_no_default_when_no_provider_is_active(admin_client, provider):
    admin_client.post(f"{BASE}{provider.pk}/archive/")

    assert defaults() == []
    assert Provider.objects.default() is None


def test_it_makes_a_new_provider_the_default_when_only_archived_ones_exist(admin_user, provider):
    retire.archive_provider(provider, admin_user)

    create_generic(admin_user, nickname="Fresh SMS")

    assert defaults() == ["Fresh SMS"]


def test_it_refuses_two_defaults_in_the_database(provider, other):
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.filter(pk=other.pk).update(is_default=True)

    assert defaults() == ["Acme SMS"]


def test_it_refuses_an_archived_default_in_the_database(provider):
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.filter(pk=provider.pk).update(archived_at=timezone.now())


def test_it_refuses_two_nicknames_differing_only_in_case_in_the_database(provider):
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.create(kind="generic", nickname="ACME sms")


# --- archive ------------------------------------------------------------------------------


def test_it_archives_a_provider(admin_client, admin_user, provider, other):
    response = admin_client.post(f"{BASE}{provider.pk}/archive/")

    assert response.status_code == 302
    saved = reload(provider)
    assert saved.archived_at is not None
    assert saved.is_default is False
    assert saved.status == "Archived"
    entry = AuditEntry.objects.filter(action="archived").get()
    assert (entry.actor, entry.object_id, entry.object_repr) == (
        admin_user,
        provider.pk,
        "Acme SMS",
    )
    assert entry.changes == {"status": ["Active", "Archived"]}


def test_it_does_not_archive_on_the_confirmation_page(admin_client, provider):
    admin_client.get(f"{BASE}{provider.pk}/archive/")

    assert reload(provider).archived_at is None


def test_it_cannot_archive_or_revive_an_archived_provider(admin_client, provider):
    admin_client.post(f"{BASE}{provider.pk}/archive/")
    archived_at = reload(provider).archived_at

    assert admin_client.post(f"{BASE}{provider.pk}/archive/").status_code == 404
    assert admin_client.get(f"{BASE}{provider.pk}/archive/").status_code == 404
    assert reload(provider).archived_at == archived_at


def test_it_shows_the_archived_notice_instead_of_the_edit_form(admin_client, provider):
    retire.archive_provider(provider, None)

    response = admin_client.get(f"{BASE}{provider.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme SMS is archived" in page
    assert "Its settings can no longer be changed" in page
    assert 'id="provider-form"' not in page


def test_it_changes_nothing_when_an_archived_provider_is_posted(admin_client, provider):
    retire.archive_provider(provider, None)
    before = reload(provider)
    data = generic_data(nickname="Revived", endpoint="https://evil.example.com/", is_default=True)

    response = admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert response.status_code == 200
    assert "Acme SMS is archived" in response.content.decode()
    after = reload(provider)
    assert (after.nickname, after.config, after.is_default) == ("Acme SMS", before.config, False)
    assert after.updated_at == before.updated_at
    assert not AuditEntry.objects.filter(action="updated").exists()


def test_it_lists_archived_providers_separately(admin_client, provider, other):
    retire.archive_provider(provider, None)

    response = admin_client.get(BASE)

    assert response.status_code == 200
    assert [p.nickname for p in response.context["active"]] == ["Backup SMS"]
    assert [p.nickname for p in response.context["archived"]] == ["Acme SMS"]
    page = response.content.decode()
    assert f"{BASE}{provider.pk}/delete/" in page
    assert f"{BASE}{provider.pk}/stats/" in page  # its stats stay viewable
    assert f"{BASE}{provider.pk}/archive/" not in page
    assert f"{BASE}{provider.pk}/default/" not in page
    archived_page = admin_client.get(f"{BASE}{provider.pk}/").content.decode()
    assert f'href="{BASE}{provider.pk}/stats/">View its stats' in archived_page


def test_it_cannot_mark_an_archived_provider_as_default(admin_client, provider, other):
    retire.archive_provider(provider, None)

    response = admin_client.post(f"{BASE}{provider.pk}/default/")

    assert response.status_code == 404
    assert defaults() == ["Backup SMS"]
    with pytest.raises(ValueError, match="archived provider cannot be the default"):
        services.mark_default(reload(provider), None)
    assert defaults() == ["Backup SMS"]


def test_it_cannot_rotate_the_callback_url_of_an_archived_provider(admin_client, provider):
    retire.archive_provider(provider, None)

    response = admin_client.post(f"{BASE}{provider.pk}/rotate-callback/")

    assert response.status_code == 404
    assert reload(provider).callback_token == provider.callback_token


# --- delete -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "acme sms", "Acme", "Acme SMS!", "Backup SMS"])
def test_it_deletes_nothing_without_the_exact_nickname(admin_client, provider, other, typed):
    response = admin_client.post(f"{BASE}{provider.pk}/delete/", {"confirm_nickname": typed})

    assert response.status_code == 200
    assert response.context["error"] == "Type the provider's nickname exactly to confirm."
    assert "Type the provider&#x27;s nickname exactly to confirm." in response.content.decode()
    assert Provider.objects.count() == 2
    assert not AuditEntry.objects.filter(action="deleted").exists()


def test_it_deletes_a_provider_when_its_nickname_is_typed(admin_client, admin_user, provider):
    response = admin_client.post(f"{BASE}{provider.pk}/delete/", {"confirm_nickname": " Acme SMS "})

    assert response.status_code == 302
    assert response["Location"] == BASE
    assert not Provider.objects.filter(pk=provider.pk).exists()
    entry = AuditEntry.objects.filter(action="deleted").get()
    assert (entry.actor, entry.object_id, entry.object_repr) == (
        admin_user,
        provider.pk,
        "Acme SMS",
    )


def test_it_deletes_an_archived_provider(admin_client, provider):
    retire.archive_provider(provider, None)

    response = admin_client.post(f"{BASE}{provider.pk}/delete/", {"confirm_nickname": "Acme SMS"})

    assert response.status_code == 302
    assert Provider.objects.count() == 0


def test_it_frees_the_nickname_of_a_deleted_provider(admin_client, admin_user, provider):
    admin_client.post(f"{BASE}{provider.pk}/delete/", {"confirm_nickname": "Acme SMS"})

    assert create_generic(admin_user, nickname="acme sms").nickname == "acme sms"


# --- rotate -------------------------------------------------------------------------------


def test_it_rotates_the_callback_url(admin_client, admin_user, provider):
    old_url = provider.callback_url

    response = admin_client.post(f"{BASE}{provider.pk}/rotate-callback/")

    saved = reload(provider)
    assert response.status_code == 302
    assert saved.callback_token != provider.callback_token
    assert len(saved.callback_token) >= 32
    assert saved.callback_url != old_url
    assert not Provider.objects.filter(callback_token=provider.callback_token).exists()
    page = admin_client.get(f"{BASE}{provider.pk}/").content.decode()
    assert saved.callback_url in page
    assert old_url not in page
    assert "New callback URL created. The old one no longer works." in page
    entry = AuditEntry.objects.filter(action="rotated callback URL").get()
    assert (entry.actor, entry.object_id) == (admin_user, provider.pk)
    assert provider.callback_token not in str(entry.changes)


def test_it_keeps_the_rotated_token_when_the_form_is_saved_again(admin_client, provider):
    admin_client.post(f"{BASE}{provider.pk}/rotate-callback/")
    rotated = reload(provider).callback_token
    data = generic_data(callback_token=provider.callback_token)

    admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    assert reload(provider).callback_token == rotated


# --- audit log ----------------------------------------------------------------------------


def test_it_records_who_created_a_provider_and_every_field(admin_client, admin_user):
    post_add(admin_client, generic_data(auth_type="basic", basic_username="u", basic_password="p1"))

    provider = Provider.objects.get()
    entry = AuditEntry.objects.get()
    assert entry.actor == admin_user
    assert entry.actor_name == "alice"
    assert entry.action == "created"
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "provider",
        provider.pk,
        "Acme SMS",
    )
    assert entry.changes["nickname"] == [None, "Acme SMS"]
    assert entry.changes["is_default"] == [None, True]
    assert entry.changes["config.endpoint"] == [None, "https://api.example.com/sms"]
    assert entry.changes["config.basic_username"] == [None, "u"]
    assert entry.changes["secret:basic_password"] == [None, "(changed)"]


def test_it_records_only_the_fields_that_changed(admin_client, provider):
    data = generic_data(endpoint="https://eu.example.com/sms")

    admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    entry = AuditEntry.objects.first()
    assert entry.action == "updated"
    assert entry.changes == {
        "config.endpoint": ["https://api.example.com/sms", "https://eu.example.com/sms"]
    }


def test_it_records_a_changed_secret_without_its_value(admin_client, admin_user):
    provider = create_twilio(admin_user, auth_token="first-token-123")

    admin_client.post(
        f"{BASE}{provider.pk}/",
        twilio_data(auth_token="second-token-456").urlencode(),
        content_type=FORM,
    )
    admin_client.post(
        f"{BASE}{provider.pk}/", twilio_data(auth_token="").urlencode(), content_type=FORM
    )

    # The second save changed nothing, so it left no entry.
    changed = AuditEntry.objects.filter(action="updated").get()
    assert changed.changes == {"secret:auth_token": [None, "(changed)"]}
    assert reload(provider).get_secrets() == {"auth_token": "second-token-456"}


def test_it_hides_the_values_of_credential_headers_in_the_audit_log(admin_client, provider):
    data = generic_data(headers=[("Authorization", "Bearer tok-991"), ("X-Trace", "on")])

    admin_client.post(f"{BASE}{provider.pk}/", data.urlencode(), content_type=FORM)

    entry = AuditEntry.objects.filter(action="updated").get()
    assert entry.changes["config.headers"][1] == [["Authorization", "(hidden)"], ["X-Trace", "on"]]
    assert entry.changes["secret:headers:Authorization"] == [None, "(changed)"]
    assert "tok-991" not in str(entry.changes)
    assert "tok-991" not in admin_client.get(AUDIT_LOG).content.decode()


def test_it_shows_every_change_in_the_audit_log(admin_client, admin_user, provider, other):
    admin_client.post(f"{BASE}{other.pk}/default/")
    admin_client.post(f"{BASE}{provider.pk}/rotate-callback/")
    admin_client.post(f"{BASE}{provider.pk}/archive/")
    admin_client.post(f"{BASE}{provider.pk}/delete/", {"confirm_nickname": "Acme SMS"})

    response = admin_client.get(AUDIT_LOG)

    assert response.status_code == 200
    actions = [(e.action, e.object_repr) for e in response.context["page"]]
    assert actions == [
        ("deleted", "Acme SMS"),
        ("archived", "Acme SMS"),
        ("rotated callback URL", "Acme SMS"),
        ("marked default", "Backup SMS"),
        ("unmarked default", "Acme SMS"),
        ("created", "Backup SMS"),
        ("created", "Acme SMS"),
    ]
    page = response.content.decode()
    assert "Deleted provider “Acme SMS”" in page
    assert "Marked default provider “Backup SMS”" in page


def test_it_keeps_every_secret_out_of_the_audit_log(admin_client, admin_user):
    secrets = ["basic-pw-31415", "oauth-key-27182", "twilio-token-16180", "basic-pw-new-1"]
    create_generic(
        admin_user,
        nickname="Basic",
        auth_type="basic",
        basic_username="u",
        basic_password=secrets[0],
    )
    oauth = create_generic(
        admin_user,
        nickname="OAuth",
        auth_type="oauth2",
        oauth_client_url="https://auth.example.com/token",
        oauth_client_id="cid",
        oauth_secret_key=secrets[1],
    )
    create_twilio(admin_user, auth_token=secrets[2])
    basic = Provider.objects.get(nickname="Basic")
    admin_client.post(
        f"{BASE}{basic.pk}/",
        generic_data(
            nickname="Basic", auth_type="basic", basic_username="u", basic_password=secrets[3]
        ).urlencode(),
        content_type=FORM,
    )
    admin_client.post(f"{BASE}{oauth.pk}/delete/", {"confirm_nickname": "OAuth"})

    page = admin_client.get(AUDIT_LOG).content.decode()

    assert "(changed)" in page
    for secret in secrets:
        assert secret not in page
        for entry in AuditEntry.objects.all():
            assert secret not in str(entry.changes)
