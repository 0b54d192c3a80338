"""Finding 2: an archived provider still sent: its drafts could be launched (and dispatch
marked their messages sent) and *Send a test* worked. An archived provider is dead, whatever
path asks (SPEC §8): no launch, schedule, resume, test send, dispatch or retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import retire, services
from campaigns.models import Campaign, CampaignStatus, Message, MessageState, SkipReason
from tests.campaigns.helpers import make_due, run, sending_campaign, states
from tests.providers.helpers import create_generic


@pytest.fixture
def provider(db, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    create_generic(None, nickname="Other", endpoint="https://other.example.com/sms")
    return create_generic(None, nickname="Acme", endpoint=httpserver.url_for("/sms"))


def archive(provider):
    retire.archive_provider(provider, None)
    provider.refresh_from_db()


def test_a_draft_of_an_archived_provider_cannot_be_launched(marketer_client, provider, httpserver):
    draft = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    archive(provider)

    page = marketer_client.post(f"/campaigns/{draft.pk}/send/", follow=True).content.decode()

    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT
    assert "This campaign&#x27;s provider “Acme” was archived." in page
    assert "Send now" not in page
    assert not services.launch(draft)
    assert not services.schedule(draft, timezone.now() + timedelta(hours=1))
    assert Message.objects.count() == 0
    assert httpserver.log == []


def test_no_test_is_sent_through_an_archived_provider(marketer_client, provider, httpserver):
    draft = Campaign.objects.create(name="Spring", provider=provider, body="Hi")
    archive(provider)

    page = marketer_client.post(f"/campaigns/{draft.pk}/test/", {"number": "+14155550199"})

    assert "was archived" in page.content.decode()
    assert httpserver.log == []
    with pytest.raises(services.ProviderUnavailable):
        services.send_test(draft, "+14155550199")


def test_a_paused_campaign_of_an_archived_provider_does_not_resume(marketer_client, provider):
    campaign = sending_campaign(provider, 2)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)
    # Archived the way a race would leave it: the campaign was not stopped with it.
    type(provider).objects.filter(pk=provider.pk).update(archived_at=timezone.now())

    marketer_client.post(f"/campaigns/{campaign.pk}/resume/")

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED


def test_dispatch_and_retries_never_send_through_an_archived_provider(provider, httpserver):
    campaign = sending_campaign(provider, 3)
    Message.objects.filter(campaign=campaign).update(attempts=1)  # retries falling due
    type(provider).objects.filter(pk=provider.pk).update(archived_at=timezone.now())
    make_due(campaign)

    run(campaign)

    assert httpserver.log == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.STOPPED
    assert "archived or deleted" in campaign.pause_reason
    assert states(campaign) == {MessageState.SKIPPED: 3}
    assert set(Message.objects.values_list("reason", flat=True)) == {SkipReason.CAMPAIGN_STOPPED}
