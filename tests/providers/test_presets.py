"""Provider presets (SPEC §5.1): every data file loads and makes a valid Generic provider, the
loader refuses a malformed or unsafe file, and the pages that turn a preset into a provider."""

from __future__ import annotations

import json
import re

import pytest

from providers import services
from providers.kinds.generic import presets
from providers.kinds.generic.form import GenericProviderForm
from providers.kinds.generic.presets import FOLDER, InvalidPreset
from providers.kinds.generic.reports import ReportMapping
from providers.models import Provider, new_callback_token

BASE = "/settings/channels/sms/providers/"
FORM = "application/x-www-form-urlencoded"
SPEC_PRESETS = {
    "Plivo", "Vonage", "Infobip", "Sinch", "Telnyx", "MSG91", "Textlocal", "Exotel", "BulkSMS",
    "Africa's Talking", "MessageBird", "Mitto", "Kaleyra", "Gupshup", "SMSINDIAHUB",
}  # fmt: skip
# Configuration keys the Generic form does not read yet: others add them (SPEC §5.3, §5.4).
MAPPINGS = {"reports", "inbound"}  # saved with every key of the section: compared as read
ALL = sorted(presets.all_presets())


def sample_inputs(preset) -> dict[str, str]:
    return {item.name: item.example for item in preset.inputs}


def filled(slug: str, token: str | None = None):
    """A preset filled with its example inputs, as the Generic form posts it."""
    preset = presets.get(slug)
    token = token or new_callback_token()
    config = preset.fill(sample_inputs(preset))
    return preset, config, presets.form_data(preset, config, token)


def preset_file(tmp_path, **changes) -> dict:
    """The Plivo preset, changed, written as plivo.json under tmp_path."""
    data = json.loads((FOLDER / "plivo.json").read_text())
    for path, value in changes.items():
        target, *keys = [data, *path.split("__")]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    (tmp_path / "plivo.json").write_text(json.dumps(data))
    return data


# --- the data files ---------------------------------------------------------------------------


def test_every_preset_file_loads_and_the_spec_list_is_there():
    loaded = presets.all_presets()
    assert len(loaded) == len(list(FOLDER.glob("*.json")))
    assert {p.name for p in loaded.values()} >= SPEC_PRESETS
    assert [p.name.lower() for p in loaded.values()] == sorted(
        p.name.lower() for p in loaded.values()
    )


@pytest.mark.parametrize("slug", ALL)
def test_a_preset_keeps_its_source_and_says_what_is_verified(slug):
    preset = presets.get(slug)
    assert preset.docs.startswith("https://")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", preset.checked)
    assert preset.verified.strip() and preset.inferred.strip()
    assert preset.secret_inputs, "every provider takes a credential"


@pytest.mark.parametrize("slug", ALL)
def test_a_filled_preset_is_a_valid_generic_form_and_saves_what_it_shows(db, slug):
    preset, config, data = filled(slug)

    form = GenericProviderForm(data)

    assert form.is_valid(), form.errors
    provider = services.save_from_form(form, None)
    saved = Provider.objects.get(pk=provider.pk)
    assert saved.nickname == preset.name
    assert saved.config["preset"] == slug
    expected = {k: v for k, v in config.items() if k not in presets.SECRET_FIELDS}
    for key, value in expected.items():
        if key not in MAPPINGS:
            assert saved.config[key] == _as_saved(key, value, config), key
    assert ReportMapping.of(saved.config) == ReportMapping.of(config)
    # Secret inputs are encrypted, never in the configuration.
    secrets = saved.readable_secrets()
    for name in preset.secret_inputs:
        value = sample_inputs(preset)[name]
        assert value not in json.dumps(saved.config)
        assert any(value in secret for secret in secrets.values()), name
    # Editing the saved provider changes nothing.
    again = GenericProviderForm(_edit_data(saved), provider=saved)
    assert again.is_valid(), again.errors
    assert again.to_config() == saved.config


def _as_saved(key, value, config):
    secret = set(config.get("secret_rows", {}).get(key, []))
    if key in ("headers", "params"):
        return [[k, "" if k in secret else v] for k, v in value]
    return value


def _edit_data(provider):
    """The saved configuration posted back as it is: secret values blank (blank keeps them)."""
    preset = presets.get(provider.config["preset"])
    return presets.form_data(preset, provider.config, provider.callback_token)


@pytest.mark.parametrize("slug", ALL)
def test_a_secret_input_lands_only_in_secret_rows_or_secret_fields(slug):
    preset, config, _ = filled(slug)
    secret_values = [sample_inputs(preset)[name] for name in preset.secret_inputs]
    secret_rows = config.get("secret_rows", {})
    for list_name in ("headers", "params"):
        for key, value in config[list_name]:
            if any(secret in value for secret in secret_values):
                assert key in secret_rows.get(list_name, []), (list_name, key)
    plain = {
        k: v for k, v in config.items() if k not in (*presets.SECRET_FIELDS, "headers", "params")
    }
    assert not any(secret in json.dumps(plain) for secret in secret_values)


# --- the loader refuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"slug": "other"}, "slug"),
        ({"docs": "http://example.com"}, "https"),
        ({"checked": "last week"}, "isoformat"),
        ({"config__endpoint": "api.plivo.com/{{auth_id}}"}, "not a URL"),
        ({"config__json_body__src": "{{sendr}}"}, "undeclared"),
        ({"config__basic_username": "{{auth_token}}"}, "secret inputs in plain config"),
        ({"config__headers": [["X-Token", "{{auth_token}}"]]}, "secret inputs in plain config"),
        ({"config__success_rule": "$.message_uuid[0"}, "Unexpected"),
        ({"config__reports__status_map": {"delivered": "done"}}, "outcomes"),
        ({"config__reports__time_zone": "Mars/Olympus"}, "time zone"),
        ({"config__reports__extra": ""}, "reports keys"),
        ({"config__inbound": {"from_path": "$.from"}}, "inbound keys"),
        ({"config__number_format": "local"}, "number_format"),
        ({"inputs": []}, "undeclared"),
    ],
)
def test_the_loader_refuses_a_malformed_or_unsafe_preset(tmp_path, changes, problem):
    preset_file(tmp_path, **changes)
    with pytest.raises(InvalidPreset, match=problem):
        presets.load(next(tmp_path.glob("*.json")))


def test_a_secret_row_may_not_take_replacements(tmp_path):
    preset_file(
        tmp_path,
        config__headers=[["X-Token", "{{auth_token}}$$To"]],
        config__secret_rows={"headers": ["X-Token"]},
    )
    with pytest.raises(InvalidPreset, match="takes no"):
        presets.load(next(tmp_path.glob("*.json")))


def test_inputs_are_cleaned_for_where_they_go():
    infobip, plivo = presets.get("infobip"), presets.get("plivo")
    host = next(i for i in infobip.inputs if i.name == "base_url")
    auth_id = next(i for i in plivo.inputs if i.name == "auth_id")
    assert presets.clean_input(host, " https://abc.api.infobip.com/ ") == "abc.api.infobip.com"
    for bad in ("abc.api.infobip.com/x?y", "evil.com@abc", "localhost"):
        with pytest.raises(ValueError):
            presets.clean_input(host, bad)
    with pytest.raises(ValueError, match="letters, digits"):
        presets.clean_input(auth_id, "MA../../x")
    with pytest.raises(ValueError, match="one line"):
        presets.clean_input(auth_id, "MA\r\nX-Evil: 1")


def test_search_matches_every_word_of_name_summary_or_slug():
    assert [p.slug for p in presets.search("nexmo")] == ["vonage"]
    assert [p.slug for p in presets.search("  INFO  ")] == ["infobip"]
    assert {p.slug for p in presets.search("india dlt")} >= {"gupshup", "smsindiahub"}
    assert presets.search("no such provider") == []
    assert len(presets.search("")) == len(presets.all_presets())


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["add/", "add/preset/infobip/", "add/preset/nope/"])
def test_a_marketer_gets_no_preset_page(marketer_client, path):
    assert marketer_client.get(BASE + path).status_code == 403
    assert marketer_client.post(BASE + path, {"_preset_inputs": "1"}).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(BASE + "add/preset/infobip/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_an_unknown_preset_is_404(admin_client):
    assert admin_client.get(BASE + "add/preset/nope/").status_code == 404


def test_the_gallery_lists_every_preset_and_filters_without_javascript(admin_client):
    page = admin_client.get(BASE + "add/").content.decode()
    assert "Generic (HTTP)" in page and "Twilio" in page
    for preset in presets.all_presets().values():
        assert f'href="{BASE}add/preset/{preset.slug}/"' in page

    page = admin_client.get(BASE + "add/", {"q": "plivo"}).content.decode()
    visible = re.findall(
        r"<li class=\"card choice-card preset-card\"[^>]*>\s*<h3><a[^>]*>([^<]+)", page
    )
    hidden = re.findall(r"data-preset-card [^>]*hidden>\s*<h3><a[^>]*>([^<]+)", page)
    assert set(visible) - set(hidden) == {"Plivo"}
    assert "1 of 15 presets match." in page
    assert re.search(r"data-preset-empty\s+hidden", page)


def test_the_gallery_says_when_nothing_matches(admin_client):
    page = admin_client.get(BASE + "add/", {"q": "pigeon post"}).content.decode()
    assert "No preset matches “<span data-preset-query>pigeon post</span>”" in page
    assert f'use <a href="{BASE}add/generic/">Generic (HTTP)</a>' in page
    assert not re.search(r"data-preset-empty\s+hidden", page)


def test_the_inputs_page_asks_for_the_providers_own_labels(admin_client):
    page = admin_client.get(BASE + "add/preset/plivo/").content.decode()
    for label in ("Auth ID", "Auth Token", "Sender"):
        assert re.search(rf'<label for="id_\w+">{label} <span class="req"', page), label
    assert re.search(r'<input type="password" name="auth_token"', page)
    assert re.search(r'<input type="text" name="auth_id"', page)
    assert "HTTP Endpoint" not in page


def test_missing_or_bad_inputs_are_said_at_their_field(admin_client):
    response = admin_client.post(
        BASE + "add/preset/plivo/", {"_preset_inputs": "1", "auth_id": "MA/../x", "sender": "+1"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Please correct the fields marked below." in page
    assert re.search(r'id_auth_id_error"><p class="error">Use letters, digits', page)
    assert re.search(r'id_auth_token_error"><p class="error">This field is required', page)
    assert not Provider.objects.exists()


def test_valid_inputs_open_the_generic_form_prefilled_and_save_nothing(admin_client):
    inputs = {
        "_preset_inputs": "1",
        "auth_id": "MAPLIVO1",
        "auth_token": "tok-1",
        "sender": "+1415",
    }

    response = admin_client.post(BASE + "add/preset/plivo/", inputs)

    page = response.content.decode()
    assert response.status_code == 200
    assert not Provider.objects.exists()
    assert "Add Generic (HTTP) provider" in page
    assert 'value="https://api.plivo.com/v1/Account/MAPLIVO1/Message/"' in page
    assert 'name="basic_username" value="MAPLIVO1"' in page
    assert 'name="preset" value="plivo"' in page
    assert "Prefilled from the Plivo preset" in page
    assert "Where to paste the callback URL" not in page  # Plivo takes it per message
    assert "The callback URL travels in each request's payload." in page
    assert 'class="errors"' not in page and "This field is required." not in page
    # Filled in when a message is sent: a rotated callback URL is followed.
    assert "&quot;url&quot;: &quot;$$CallbackURL&quot;" in page


def test_the_prefilled_form_saves_through_the_preset_url(admin_client):
    _, _, data = filled("vonage")

    response = admin_client.post(BASE + "add/preset/vonage/", data.urlencode(), content_type=FORM)

    provider = Provider.objects.get()
    assert response.status_code == 302
    assert response["Location"] == provider.get_absolute_url()
    assert provider.config["preset"] == "vonage"
    assert provider.readable_secrets()["params:api_secret"] == "vonage-secret-0001"


def test_an_in_place_refresh_of_the_prefilled_form_stays_on_the_preset_url(admin_client):
    _, _, data = filled("textlocal")
    data["_action"] = "add-row:headers"

    response = admin_client.post(
        BASE + "add/preset/textlocal/", data.urlencode(), content_type=FORM
    )

    assert response.status_code == 200
    assert not Provider.objects.exists()
    assert f'hx-post="{BASE}add/preset/textlocal/"' in response.content.decode()


def test_a_saved_preset_provider_shows_its_docs_and_where_to_paste_the_url(admin_client):
    _, _, data = filled("africastalking")
    admin_client.post(BASE + "add/preset/africastalking/", data.urlencode(), content_type=FORM)
    provider = Provider.objects.get()

    page = admin_client.get(provider.get_absolute_url()).content.decode()

    assert "Set up from the Africa&#x27;s Talking preset" in page
    assert 'href="https://docs.africastalking.com/sms/sending"' in page
    assert "<strong>Where to paste the callback URL:</strong> In the Africa" in page
    assert 'name="preset" value="africastalking"' in page


def test_a_provider_without_a_preset_shows_no_hint(admin_client):
    from .helpers import create_generic

    provider = create_generic(None)
    page = admin_client.get(provider.get_absolute_url()).content.decode()
    assert "preset-hint" not in page
    assert "preset" not in provider.config


def test_an_unknown_preset_slug_is_not_saved(db):
    _, _, data = filled("plivo")
    data["preset"] = "made-up"
    form = GenericProviderForm(data)
    assert form.is_valid(), form.errors
    assert "preset" not in form.to_config()
