"""The Delivery reports section of the Generic form (SPEC §5.3, §5.4): every rule, the
configuration it saves, and Try a report (a pasted sample read, nothing recorded)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest, Event
from campaigns.models import Campaign, Message
from providers import message_ids
from providers.kinds.generic.form import GenericProviderForm

from .helpers import create_generic, generic_data

MAPPING = {
    "reports_format": "json",
    "reports_items_path": "$.results[*]",
    "reports_our_id_path": "$.callbackData",
    "reports_provider_id_path": "$.messageId",
    "reports_number_path": "$.to",
    "reports_status_path": "$.status.groupName",
    "reports_status_map": "DELIVERED = delivered\nUNDELIVERABLE = failed\nPENDING = pending",
    "reports_error_code_path": "$.error.id",
    "reports_error_description_path": "$.error.name",
    "reports_time_path": "$.doneAt",
    "reports_time_format": "iso",
    "reports_time_zone": "UTC",
    "inbound_from_path": "$.from",
    "inbound_to_path": "$.to",
    "inbound_text_path": "$.text",
}


def form_with(**fields) -> GenericProviderForm:
    form = GenericProviderForm(generic_data(**{**MAPPING, **fields}))
    form.is_valid()
    return form


def test_a_native_mapping_is_saved_and_shown_again(db):
    provider = create_generic(None, **MAPPING)

    assert provider.config["reports"] == {
        "format": "json",
        "json_field": "",
        "items_path": "$.results[*]",
        "our_id_path": "$.callbackData",
        "our_id_in_url": False,
        "provider_id_path": "$.messageId",
        "number_path": "$.to",
        "status_path": "$.status.groupName",
        "status_map": {"DELIVERED": "delivered", "UNDELIVERABLE": "failed", "PENDING": "pending"},
        "error_code_path": "$.error.id",
        "error_description_path": "$.error.name",
        "time_path": "$.doneAt",
        "time_format": "iso",
        "time_zone": "UTC",
    }
    assert provider.config["inbound"] == {
        "from_path": "$.from",
        "to_path": "$.to",
        "text_path": "$.text",
        "id_path": "",
        "when_path": "",
        "when_value": "",
    }
    again = GenericProviderForm(provider=provider)
    assert again["reports_status_map"].value() == MAPPING["reports_status_map"]
    assert again["reports_format"].value() == "json"


def test_the_reference_format_saves_no_mapping(db):
    provider = create_generic(None, reports_format="reference", reports_status_path="$.x")
    assert "reports" not in provider.config and "inbound" not in provider.config


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"reports_status_path": ""}, "reports_status_path", "This field is required."),
        ({"reports_items_path": "results"}, "reports_items_path", "A JSON path starts with $"),
        (
            {"reports_our_id_path": "", "reports_provider_id_path": ""},
            "reports_provider_id_path",
            "Give our message ID path, tick our message ID in the URL",
        ),
        (
            {"reports_status_map": "DELIVERED = done"},
            "reports_status_map",
            "Line 1: write the provider's value, =, then delivered, failed or pending.",
        ),
        ({"reports_time_format": "dd/mm"}, "reports_time_format", "Enter iso, epoch_s"),
        ({"reports_time_zone": "Mars/Olympus"}, "reports_time_zone", "Not a time zone"),
        ({"reports_json_field": "data"}, "reports_json_field", "Only form or query fields"),
        ({"inbound_text_path": ""}, "inbound_text_path", "Give both the sender and the text"),
    ],
)
def test_each_rule_shows_at_its_field(db, fields, field, error):
    form = form_with(**fields)
    assert not form.is_valid()
    assert any(message.startswith(error) for message in form.errors[field]), form.errors


def test_the_mapping_is_not_checked_while_the_reference_format_is_chosen(db):
    form = form_with(reports_format="reference", reports_status_path="", reports_time_zone="x")
    assert form.is_valid(), form.errors


def sample_for(message) -> str:
    return json.dumps(
        {
            "results": [
                {
                    "messageId": "ib-1",
                    "to": message.to.lstrip("+"),
                    "callbackData": message_ids.sign(message.id),
                    "doneAt": "2026-11-30T16:00:00.000+0100",
                    "status": {"groupName": "UNDELIVERABLE"},
                    "error": {"id": 27, "name": "EC_ABSENT_SUBSCRIBER"},
                },
                {"messageId": "ib-2", "to": "41793026999", "status": {"groupName": "PENDING"}},
                {"from": "41793026727", "to": "41793026000", "text": "Thanks"},
                {"messageId": "ib-3"},
            ]
        }
    )


def test_try_a_report_shows_each_item_and_its_message_and_records_nothing(admin_client):
    provider = create_generic(None, **MAPPING)
    campaign = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    message = Message.objects.create(campaign=campaign, provider=provider, to="+41793026701")
    data = generic_data(**MAPPING)
    data.update({"_action": "try-report", "try-sample": sample_for(message)})

    response = admin_client.post(reverse("providers:edit", args=[provider.pk]), data)

    page = response.content.decode()
    assert "4 items read. Nothing was recorded." in page
    assert "Failed" in page and "EC_ABSENT_SUBSCRIBER" in page
    assert f"Message {message.id} to +41793026701" in page
    assert "Pending: kept, not counted" in page and "No message of this provider" in page
    assert "Reply from +41793026727: “Thanks”" in page
    assert "Not read: no status at $.status.groupName" in page
    assert not Event.objects.exists() and not CallbackRequest.objects.exists()
    message.refresh_from_db()
    assert message.outcome == ""


def test_try_a_report_on_an_unsaved_provider_reads_but_cannot_match(admin_client):
    data = generic_data(**MAPPING)
    sample = {"results": [{"messageId": "x", "status": {"groupName": "DELIVERED"}}]}
    data.update({"_action": "try-report", "try-sample": json.dumps(sample)})

    page = admin_client.post(reverse("providers:add-kind", args=["generic"]), data)

    assert "Save the provider to match its messages" in page.content.decode()


@pytest.mark.parametrize(
    ("fields", "sample", "error"),
    [
        ({}, "{not json", "Bad request. The body is not valid JSON"),
        ({}, "", "Paste a sample report first."),
        ({"reports_status_path": ""}, "{}", "Correct the delivery report fields marked above"),
    ],
)
def test_try_a_report_says_what_is_wrong(admin_client, fields, sample, error):
    data = generic_data(**{**MAPPING, **fields})
    data.update({"_action": "try-report", "try-sample": sample})

    page = admin_client.post(reverse("providers:add-kind", args=["generic"]), data)

    assert error in page.content.decode()


def test_try_a_report_needs_a_mapped_format(db):
    """The box shows only for a mapped format; a post that still asks is told why."""
    from providers.kinds.generic.report_trial import try_report

    form = form_with(reports_format="reference")
    assert form.is_valid(), form.errors

    trial = try_report(form, '{"results": []}', "", match=None)

    assert trial.error == "Choose the format the provider posts: SMS Hub's own needs no mapping."
    assert trial.rows == []
