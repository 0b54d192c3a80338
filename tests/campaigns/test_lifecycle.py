"""A campaign from its audience to the provider: messages created set-based, opted-out
numbers skipped, personalised and tracked bodies, schedule, stop, archive (SPEC §4)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from audiences.models import Audience, Contact, Import, ImportStatus, OptOut
from callbacks.models import Event
from campaigns import links, retire, services, sweeper
from campaigns.models import Campaign, CampaignStatus, Message, MessageState
from providers import message_ids
from tests.providers.helpers import create_generic

from .helpers import run, states

JSON_BODY = '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID", "u": "$$uid"}'


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def provider(db, httpserver):
    httpserver.expect_request("/sms").respond_with_json({"ok": True})
    return create_generic(None, endpoint=httpserver.url_for("/sms"), json_body=JSON_BODY)


def make_audience(rows, name="Customers", header=("phone", "first_name", "customer_id")):
    audience = Audience.objects.create(name=name, contact_count=len(rows))
    Import.objects.create(
        audience=audience,
        original_name="customers.csv",
        header=list(header),
        phone_column="phone",
        status=ImportStatus.DONE,
    )
    Contact.objects.bulk_create(
        Contact(audience=audience, phone=phone, attributes=attributes) for phone, attributes in rows
    )
    return audience


@pytest.fixture
def audience(db):
    return make_audience(
        [
            ("+14155550001", {"first_name": "Ada", "customer_id": "C-1"}),
            ("+14155550002", {"first_name": "", "customer_id": "C-2"}),
            ("+14155550003", {"first_name": "Grace", "customer_id": "C-3"}),
        ]
    )


@pytest.fixture
def launch(django_capture_on_commit_callbacks):
    """services.launch, with what it does after commit (preparing the messages) run."""

    def launch(campaign) -> bool:
        with django_capture_on_commit_callbacks(execute=True):
            return services.launch(campaign)

    return launch


def draft(provider, audience, **fields):
    values = {
        "name": "Spring sale",
        "provider": provider,
        "audience": audience,
        "body": "Hi {first_name|there}, 20% off today",
        "custom_values": {"uid": "{customer_id}"},
    }
    return Campaign.objects.create(**{**values, **fields})


def bodies(httpserver):
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_it_sends_a_personalised_message_to_every_contact(launch, provider, audience, httpserver):
    campaign = draft(provider, audience)

    assert launch(campaign) is True
    run(campaign)

    sent = bodies(httpserver)
    assert [(b["to"], b["text"], b["u"]) for b in sent] == [
        ("+14155550001", "Hi Ada, 20% off today", "C-1"),
        ("+14155550002", "Hi there, 20% off today", "C-2"),
        ("+14155550003", "Hi Grace, 20% off today", "C-3"),
    ]
    assert states(campaign) == {MessageState.SENT: 3}
    assert services.finish_if_done(campaign.pk) is True
    campaign.refresh_from_db()
    assert (campaign.status, campaign.recipients) == (CampaignStatus.SENT, 3)


def test_opted_out_numbers_are_skipped_and_counted_never_sent(
    launch, provider, audience, httpserver
):
    OptOut.objects.create(phone="+14155550002", opted_out_at=timezone.now(), keyword="STOP")
    campaign = draft(provider, audience)

    launch(campaign)
    run(campaign)

    assert [b["to"] for b in bodies(httpserver)] == ["+14155550001", "+14155550003"]
    skipped = Message.objects.get(state=MessageState.SKIPPED)
    assert (skipped.to, skipped.reason, skipped.next_attempt_at) == (
        "+14155550002",
        "opted_out",
        None,
    )
    progress = services.progress(campaign)
    assert (progress.sent, progress.skipped, progress.opted_out, progress.percent) == (2, 1, 1, 100)


def test_messages_are_created_once_even_if_preparing_runs_twice(
    launch, provider, audience, enqueued
):
    campaign = draft(provider, audience)
    launch(campaign)

    assert services.prepare(campaign.pk) == 0  # already prepared by launch

    assert Message.objects.count() == 3
    assert Campaign.objects.get().recipients == 3


def test_messages_are_created_in_a_constant_number_of_queries(
    provider, enqueued, django_assert_max_num_queries
):
    small = make_audience([(f"+1415555{i:04d}", {}) for i in range(3)], name="Small")
    large = make_audience([(f"+1415556{i:04d}", {}) for i in range(3000)], name="Large")

    with django_assert_max_num_queries(12) as few:
        services.prepare(draft(provider, small, status=CampaignStatus.SENDING).pk)
    with django_assert_max_num_queries(12) as many:
        services.prepare(draft(provider, large, status=CampaignStatus.SENDING).pk)

    assert len(few.captured_queries) == len(many.captured_queries)
    assert Message.objects.count() == 3003


def test_a_tracked_link_is_unique_per_message_and_redirects(
    launch, provider, audience, httpserver, client
):
    campaign = draft(
        provider,
        audience,
        body="Hi {first_name|there}: https://shop.example/sale?x=1",
        click_tracking=True,
    )
    launch(campaign)
    run(campaign)

    texts = [b["text"] for b in bodies(httpserver)]
    prefix = "Hi Ada: http://testserver/l/"
    assert texts[0].startswith(prefix)
    codes = [text.rsplit("/l/", 1)[1] for text in texts]
    assert len(set(codes)) == 3
    first = Message.objects.order_by("id").first()
    assert links.decode(codes[0]) == (first.id, 0)

    response = client.get(f"/l/{codes[0]}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/sale?x=1"
    client.get(f"/l/{codes[0]}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    clicks = Event.objects.filter(type="clicked")
    assert [(c.message_id, c.url, c.properties["source"]) for c in clicks] == [
        (first.id, "https://shop.example/sale?x=1", "tracked link")
    ] * 2
    assert clicks[0].short_url == f"http://testserver/l/{codes[0]}"
    first.refresh_from_db()
    assert first.first_clicked_at is not None  # one unique click


@pytest.mark.parametrize(
    ("method", "agent"),
    [
        ("HEAD", "Mozilla/5.0"),
        ("GET", "facebookexternalhit/1.1"),
        ("GET", "Slackbot-LinkExpanding 1.0"),
        ("GET", "WhatsApp/2.23.20.0"),
        ("GET", "Mozilla/5.0 (compatible; Twitterbot/1.0)"),
    ],
)
def test_link_previews_are_redirected_but_not_counted(
    launch, provider, audience, client, method, agent
):
    campaign = draft(provider, audience, body="See https://shop.example/x", click_tracking=True)
    launch(campaign)
    message = Message.objects.order_by("id").first()

    response = client.generic(method, f"/l/{links.encode(message.id, 0)}", HTTP_USER_AGENT=agent)

    assert response.status_code == 302
    assert Event.objects.count() == 0


@pytest.mark.parametrize("code", ["nope", "AAAAAAAAAAAA", ""])
def test_an_unknown_link_gets_a_friendly_404(client, db, code):
    response = client.get(f"/l/{code}x")
    assert response.status_code == 404
    assert "This link doesn" in response.content.decode()


def test_a_link_of_a_deleted_message_is_not_found(launch, provider, audience, client):
    campaign = draft(provider, audience, body="See https://shop.example/x", click_tracking=True)
    launch(campaign)
    code = links.encode(Message.objects.order_by("id").first().id + 1000, 0)
    assert client.get(f"/l/{code}").status_code == 404


def test_a_scheduled_campaign_launches_at_its_time(
    provider, audience, django_capture_on_commit_callbacks
):
    campaign = draft(provider, audience)
    when = timezone.now() + timedelta(hours=2)
    assert services.schedule(campaign, when) is True

    assert services.launch_due() == 0  # not yet
    Campaign.objects.update(scheduled_at=timezone.now() - timedelta(seconds=1))  # time comes
    with django_capture_on_commit_callbacks(execute=True):
        assert services.launch_due() == 1
    assert services.launch_due() == 0  # never twice

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    assert Message.objects.count() == 3


def test_stopping_skips_what_was_not_sent(launch, provider, audience, httpserver, settings):
    settings.DISPATCH_GROUP_SIZE = 1
    campaign = draft(provider, audience)
    launch(campaign)
    from campaigns import dispatch

    claimed = dispatch.claim(campaign.pk, 0, 2**62, 1)  # one message in flight

    assert services.stop(campaign, "Stopped by mark.") == 2
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.STOPPED
    assert states(campaign) == {MessageState.SENDING: 1, MessageState.SKIPPED: 2}
    run(campaign)
    assert httpserver.log == []
    assert len(claimed) == 1


def test_archiving_the_provider_stops_its_campaigns(launch, provider, audience):
    sending = draft(provider, audience)
    launch(sending)
    scheduled = draft(provider, audience, name="Later")
    services.schedule(scheduled, timezone.now() + timedelta(days=1))
    finished = draft(provider, audience, name="Old", status=CampaignStatus.SENT)

    retire.archive_provider(provider, None)

    statuses = dict(Campaign.objects.values_list("name", "status"))
    assert statuses == {
        "Spring sale": CampaignStatus.STOPPED,
        "Later": CampaignStatus.STOPPED,
        "Old": CampaignStatus.SENT,
    }
    assert "archived" in Campaign.objects.get(pk=sending.pk).pause_reason
    assert finished.pk


def test_deleting_the_provider_deletes_its_messages_and_keeps_the_campaign(
    launch, provider, audience
):
    campaign = draft(provider, audience)
    launch(campaign)
    assert Message.objects.count() == 3

    retire.delete_provider(provider, None)

    campaign.refresh_from_db()
    assert (campaign.status, campaign.provider_id) == (CampaignStatus.STOPPED, None)
    assert Message.objects.count() == 0


def test_the_sweeper_prepares_a_campaign_whose_task_was_lost(
    launch, provider, audience, monkeypatch
):
    from campaigns import tasks

    lost: list = []
    monkeypatch.setattr(tasks.prepare, "delay", lambda *args: lost.append(args))
    campaign = draft(provider, audience)
    launch(campaign)
    assert lost == [(campaign.pk,)] and Message.objects.count() == 0
    Campaign.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=5))

    monkeypatch.setattr(tasks.prepare, "delay", tasks.prepare)
    assert sweeper.sweep().revived == 1

    assert Message.objects.count() == 3


def test_a_message_id_token_of_a_campaign_message_verifies(launch, provider, audience, httpserver):
    campaign = draft(provider, audience)
    launch(campaign)
    run(campaign)
    refs = [message_ids.verify(b["ref"]) for b in bodies(httpserver)]
    assert refs == list(Message.objects.order_by("id").values_list("id", flat=True))
