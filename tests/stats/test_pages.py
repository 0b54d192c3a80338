"""The stats pages (SPEC §7): the Stats and Errors tabs of campaigns and providers, the
overview, the delivery rate in the campaign and provider lists. Rollup rows are made by hand,
so the figures on the page can be checked against hand-computed ones."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from campaigns import retire
from campaigns.models import Campaign
from stats.figures import MAX_DAYS
from stats.models import DailyError, DailyLatency, DailyStat
from tests.providers.helpers import create_generic, create_twilio

# Rollup rows made by hand: there are no messages for a recompute to agree with.
pytestmark = pytest.mark.no_rollup_check

WITH_CALLBACKS = '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}'
WITHOUT_CALLBACKS = '{"to": "$$To", "text": "$$Body"}'
X = "\N{MULTIPLICATION SIGN}"


def today():
    return timezone.localdate()


def ago(days: int):
    return today() - timedelta(days=days)


@pytest.fixture
def provider(db):
    return create_generic(None, nickname="Acme SMS", json_body=WITH_CALLBACKS)


@pytest.fixture
def blind(db):
    """A provider whose payload has no $$MessageID: no delivery report can reach us."""
    return create_generic(None, nickname="Blind SMS", json_body=WITHOUT_CALLBACKS)


@pytest.fixture
def campaign(provider):
    return Campaign.objects.create(name="Spring sale", provider=provider, body="Hi", status="sent")


def stat(campaign, day, **counters) -> DailyStat:
    return DailyStat.objects.create(
        provider_id=campaign.provider_id, campaign=campaign, day=day, **counters
    )


def error(campaign, day, code, count) -> DailyError:
    return DailyError.objects.create(
        provider_id=campaign.provider_id, campaign=campaign, day=day, code=code, count=count
    )


def latency(campaign, day, bucket, count) -> DailyLatency:
    return DailyLatency.objects.create(
        provider_id=campaign.provider_id, campaign=campaign, day=day, bucket=bucket, count=count
    )


def stats_url(obj) -> str:
    if isinstance(obj, Campaign):
        return f"/campaigns/{obj.pk}/stats/"
    return f"/settings/channels/sms/providers/{obj.pk}/stats/"


def cards_on(html: str) -> list[tuple[str, str, str]]:
    """The figure cards of a page: (label, value, note) as shown."""
    block = re.search(r'<dl class="stats-figures">(.*?)</dl>', html, re.S)[1]
    cards = []
    for card in re.findall(r"<div>(.*?)</div>", block, re.S):
        label = re.search(r"<dt>([^<]+)", card)[1]
        value = re.search(r"<dd>([^<]+)", card)[1].strip()
        note = re.search(r'class="figure-note">([^<]+)', card)
        cards.append((label, unescape(value), unescape(note[1]) if note else ""))
    return cards


def figures_on(html: str) -> dict[str, str]:
    return {label: value for label, value, _ in cards_on(html)}


def notes_on(html: str) -> dict[str, str]:
    return {label: note for label, _, note in cards_on(html) if note}


def text_of(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def busy(campaign):
    """Thirty days of a campaign (two days with traffic) and a day just before them."""
    stat(campaign, ago(0), sent=200, delivered=150, clicks=30, unique_clicks=20, replies=4,
         dispatch_errors=3, failed=6, skipped=9)  # fmt: skip
    stat(campaign, ago(29), sent=100, delivered=90, clicks=20, unique_clicks=10, replies=3,
         dispatch_errors=2, failed=4)  # fmt: skip
    stat(campaign, ago(30), sent=1000, delivered=1000, clicks=500, unique_clicks=400)
    return campaign


# --- roles -------------------------------------------------------------------------------------
def pages(campaign, provider) -> list[str]:
    return [
        f"/campaigns/{campaign.pk}/stats/",
        f"/campaigns/{campaign.pk}/stats/errors/",
        f"/settings/channels/sms/providers/{provider.pk}/stats/",
        f"/settings/channels/sms/providers/{provider.pk}/stats/errors/",
        "/",
    ]


def test_it_sends_anonymous_users_to_the_login_page(client, campaign, provider):
    for url in pages(campaign, provider):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")


def test_it_shows_every_page_to_marketers_and_admins(
    marketer_client, admin_client, campaign, provider
):
    for client in (marketer_client, admin_client):
        for url in pages(campaign, provider):
            assert client.get(url).status_code == 200, url
            assert client.get(url + "?days=7").status_code == 200, url


def test_it_refuses_users_without_a_role(db, campaign, provider):
    user = get_user_model().objects.create_user("nobody", password="x")
    client = Client()
    client.force_login(user)

    for url in pages(campaign, provider)[:-1]:
        assert client.get(url).status_code == 403, url
    overview = client.get("/")
    assert overview.status_code == 200
    assert "Providers side by side" not in overview.content.decode()


def test_it_gives_marketers_the_stats_tabs_of_a_provider_but_no_setup(
    marketer_client, admin_client, provider
):
    setup = f'href="/settings/channels/sms/providers/{provider.pk}/"'
    for url in (stats_url(provider), stats_url(provider) + "errors/"):
        page = marketer_client.get(url).content.decode()
        tabs = re.search(r'<nav class="tabs" aria-label="Provider">(.*?)</nav>', page, re.S)[1]
        assert re.findall(r">(\w+)</a>", tabs) == ["Stats", "Errors", "Events"]
        assert setup not in page
        assert "api.example.com" not in page  # nor its endpoint

        tabs = re.search(
            r'<nav class="tabs" aria-label="Provider">(.*?)</nav>',
            admin_client.get(url).content.decode(),
            re.S,
        )[1]
        assert re.findall(r">(\w+)</a>", tabs) == ["Setup", "Stats", "Errors", "Events"]


def test_it_links_a_campaigns_tabs(marketer_client, campaign):
    for url in (f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/events/"):
        page = marketer_client.get(url).content.decode()
        assert f'href="/campaigns/{campaign.pk}/stats/">Stats</a>' in page
        assert f'href="/campaigns/{campaign.pk}/stats/errors/">Errors</a>' in page

    page = marketer_client.get(f"/campaigns/{campaign.pk}/stats/").content.decode()
    tabs = re.search(r'<nav class="tabs" aria-label="Campaign">(.*?)</nav>', page, re.S)[1]
    assert re.findall(r">(\w+)</a>", tabs) == ["Overview", "Stats", "Errors", "Events"]
    assert f'href="/campaigns/{campaign.pk}/stats/errors/?days=30">Errors' in tabs


def test_it_keeps_an_archived_providers_stats_and_forgets_a_deleted_one(
    marketer_client, busy, provider
):
    retire.archive_provider(provider, None)

    response = marketer_client.get(stats_url(provider))

    assert response.status_code == 200
    assert figures_on(response.content.decode())["Total Sent"] == "300"
    assert "Archived" in response.content.decode()

    retire.delete_provider(provider, None)
    assert marketer_client.get(stats_url(provider)).status_code == 404
    assert marketer_client.get(stats_url(provider) + "errors/").status_code == 404
    assert marketer_client.get("/campaigns/999999/stats/").status_code == 404


# --- the figures -------------------------------------------------------------------------------
def test_it_shows_the_exact_figures_of_the_range(marketer_client, busy):
    expected = {
        "Total Sent": "300",
        "Total Delivered": "240",
        "Total Clicks": "50",
        "Total Replies": "7",
        "Total Errors": "15",  # 5 dispatch errors + 10 failed
        "Delivery Rate": "80 %",  # 240 / 300
        "CTR": "12.50 %",  # 30 unique clicks / 240 delivered
        "Daily Avg Sent": "10",  # 300 / 30 days
        "Daily Avg Delivery": "8",  # 240 / 30 days
    }
    for url in (stats_url(busy), stats_url(busy.provider), "/"):
        page = marketer_client.get(url).content.decode()
        assert figures_on(page) == expected, url
        assert notes_on(page) == {
            "Total Clicks": "30 unique",
            "Total Errors": "5 dispatch · 10 failed",
        }


def test_it_counts_the_chosen_days_only(marketer_client, busy):
    week = marketer_client.get(stats_url(busy) + "?days=7").content.decode()
    assert figures_on(week) | {} == {
        "Total Sent": "200",
        "Total Delivered": "150",
        "Total Clicks": "30",
        "Total Replies": "4",
        "Total Errors": "9",
        "Delivery Rate": "75 %",
        "CTR": "13.33 %",  # 20 / 150
        "Daily Avg Sent": "28.57",  # 200 / 7
        "Daily Avg Delivery": "21.43",  # 150 / 7
    }
    quarter = figures_on(marketer_client.get(stats_url(busy) + "?days=90").content.decode())
    assert quarter["Total Sent"] == "1,300"
    assert quarter["CTR"] == "34.68 %"  # 430 / 1,240, rounded to two decimals

    custom = f"?start={ago(30).isoformat()}&end={ago(29).isoformat()}"
    page = marketer_client.get(stats_url(busy) + custom).content.decode()
    assert figures_on(page)["Total Sent"] == "1,100"
    assert figures_on(page)["Daily Avg Sent"] == "550"
    assert f"{ago(30):%-d %b %Y}" in page


def test_it_explains_each_figure_with_its_formula(marketer_client, busy):
    page = marketer_client.get(stats_url(busy)).content.decode()

    for formula in (
        f"Delivered ÷ Sent {X} 100; shown as 0 when the provider has no delivery callbacks "
        "configured.",
        f"Unique clicks ÷ Delivered {X} 100.",
        "Total Sent ÷ 30 days in the range.",
        "Total Delivered ÷ 30 days in the range: messages delivered per day (a count, not a "
        "percentage).",
        "Dispatch errors + messages with a failed delivery report.",
    ):
        assert f'title="{formula}"' in unescape(page).replace("&#x27;", "'"), formula
        assert f'<span class="sr-only"> ({formula})</span>' in unescape(page), formula


def test_it_shows_zero_rates_when_nothing_was_sent(marketer_client, campaign):
    page = marketer_client.get(stats_url(campaign)).content.decode()

    assert set(figures_on(page).values()) == {"0", "0 %"}
    assert "No messages sent in this period" in page
    assert 'class="chart-svg"' not in page


def test_a_provider_without_callbacks_has_no_delivery_rate_and_ctr_on_sent(marketer_client, blind):
    campaign = Campaign.objects.create(name="Blind", provider=blind, body="Hi", status="sent")
    stat(campaign, ago(1), sent=200, delivered=50, clicks=12, unique_clicks=10)

    for url in (stats_url(campaign), stats_url(blind)):
        page = marketer_client.get(url).content.decode()
        shown = figures_on(page)
        assert shown["Delivery Rate"] == "0 %"
        assert shown["CTR"] == "5 %"  # 10 unique clicks / 200 sent
        assert "No delivery callbacks are configured" in page
        assert f"Unique clicks ÷ Sent (no delivery callbacks configured) {X} 100." in unescape(page)


def test_a_twilio_provider_has_callbacks(marketer_client):
    twilio = create_twilio()
    campaign = Campaign.objects.create(name="T", provider=twilio, body="Hi", status="sent")
    stat(campaign, ago(1), sent=10, delivered=5, unique_clicks=1)

    shown = figures_on(marketer_client.get(stats_url(twilio)).content.decode())

    assert (shown["Delivery Rate"], shown["CTR"]) == ("50 %", "20 %")


def test_a_campaign_whose_provider_was_deleted_keeps_its_page(marketer_client, campaign):
    retire.delete_provider(campaign.provider, None)

    page = marketer_client.get(stats_url(campaign))

    assert page.status_code == 200
    assert "provider was deleted" in page.content.decode()


# --- the charts and the table ------------------------------------------------------------------
def test_it_draws_the_daily_chart_with_a_legend_and_hover_values(marketer_client, busy):
    page = marketer_client.get(stats_url(busy)).content.decode()

    svg = re.search(r'<svg class="chart-svg".*?</svg>', page, re.S)[0]
    assert 'role="img"' in svg
    for key, label in (("sent", "Sent"), ("delivered", "Delivered"), ("errors", "Errors"),
                       ("clicks", "Clicks")):  # fmt: skip
        assert f'data-series="{key}"' in svg
        assert (
            f'aria-pressed="true" aria-controls="delivery-chart" data-chart-toggle="{key}">'
            f'<span class="swatch" aria-hidden="true"></span>{label}</button>'
        ) in page
    assert len(re.findall(r"<rect ", svg)) == 30  # a hover band per day
    day = today()
    assert (
        f"<title>{day:%a} {day.day} {day:%b %Y}: Sent 200, Delivered 150, Errors 9, Clicks 30"
        "</title>"
    ) in svg
    assert 'id="ctr-chart"' in page
    assert f"<title>{day:%a} {day.day} {day:%b %Y}: CTR 13.33 %</title>" in page


def test_it_stays_readable_at_ninety_days(marketer_client, busy):
    page = marketer_client.get(stats_url(busy) + "?days=90").content.decode()

    svg = re.search(r'<svg class="chart-svg".*?</svg>', page, re.S)[0]
    labels = re.findall(r'<text class="chart-xlabel"[^>]*>([^<]+)</text>', svg)
    assert len(labels) == 13  # weekly, ending today
    assert labels[-1] == f"{today():%b} {today().day}"
    ticks = re.findall(r'<text class="chart-ylabel"[^>]*>([^<]+)</text>', svg)
    assert ticks == ["0", "200", "400", "600", "800", "1k"]


def test_it_lists_the_daily_numbers_in_an_accessible_table(marketer_client, busy):
    page = marketer_client.get(stats_url(busy) + "?days=7").content.decode()

    table = re.search(r'<details class="chart-data">.*?</details>', page, re.S)[0]
    assert "<caption" in table
    assert len(re.findall(r'<th scope="row">', table)) == 8  # 7 days and the total
    assert len(re.findall(r'<th scope="col"', table)) == 7
    row = re.search(rf'<time datetime="{today().isoformat()}">.*?</tr>', table, re.S)[0]
    assert re.findall(r'<td class="num">([^<]+)</td>', row) == [
        "200", "150", "9", "30", "20", "13.33 %"
    ]  # fmt: skip


def test_it_exports_the_daily_numbers_as_csv(marketer_client, busy):
    response = marketer_client.get(stats_url(busy) + "?days=7&format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sms-stats-campaign-{busy.pk}-{ago(6).isoformat()}-to-'
        f'{today().isoformat()}.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["day", "sent", "delivered", "errors", "clicks", "unique_clicks", "ctr"]
    assert len(rows) == 8
    assert rows[1] == [ago(6).isoformat(), "0", "0", "0", "0", "0", "0.00"]
    assert rows[-1] == [today().isoformat(), "200", "150", "9", "30", "20", "13.33"]


def test_the_csv_keeps_a_custom_range_and_refuses_a_bad_one(marketer_client, busy):
    url = stats_url(busy.provider)
    custom = f"?start={ago(30).isoformat()}&end={ago(29).isoformat()}"
    page = marketer_client.get(url + custom).content.decode()
    assert f'href="{url}{custom.replace("&", "&amp;")}&amp;format=csv"' in page

    rows = list(csv.reader(io.StringIO(
        b"".join(marketer_client.get(url + custom + "&format=csv").streaming_content).decode()
    )))  # fmt: skip
    assert rows[1:] == [
        [ago(30).isoformat(), "1000", "1000", "0", "500", "400", "40.00"],
        [ago(29).isoformat(), "100", "90", "6", "20", "10", "11.11"],
    ]

    bad = marketer_client.get(url + f"?start={today()}&end={ago(1)}&format=csv")
    assert bad.status_code == 400
    assert "The last day must be on or after the first day." in bad.content.decode()

    overview = marketer_client.get("/?days=7&format=csv")
    assert overview["Content-Disposition"].startswith(
        'attachment; filename="sms-stats-all-providers-'
    )


# --- the date range ----------------------------------------------------------------------------
def test_it_defaults_to_the_last_thirty_days(marketer_client, busy):
    page = marketer_client.get(stats_url(busy)).content.decode()

    assert 'aria-current="true">Last 30 days</a>' in page
    assert f'<time datetime="{ago(29).isoformat()}">' in page
    assert f'value="{ago(29).isoformat()}"' in page  # the custom fields show the range in use
    assert f'max="{today().isoformat()}"' in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start={t}&end={y}", "end", "The last day must be on or after the first day."),
        ("start={long}&end={t}", "start", f"A range covers at most {MAX_DAYS} days."),
        ("start={y}&end={tomorrow}", "end", "The last day can't be after today ({t})."),
        ("start=2024-13-01&end={t}", "start", "Enter a date as YYYY-MM-DD."),
        ("start=01/05/2024&end={t}", "start", "Enter a date as YYYY-MM-DD."),
        ("start={y}", "end", "Enter the last day of the range."),
        ("end={y}", "start", "Enter the first day of the range."),
    ],
)
def test_it_shows_a_bad_range_at_its_field(marketer_client, busy, query, field, message):
    values = {
        "t": today().isoformat(),
        "y": ago(1).isoformat(),
        "tomorrow": (today() + timedelta(days=1)).isoformat(),
        "long": ago(MAX_DAYS).isoformat(),
    }
    response = marketer_client.get(stats_url(busy) + "?" + query.format(**values))

    assert response.status_code == 200
    page = unescape(response.content.decode())
    error = re.search(
        rf'<div class="field has-error" id="field-{field}">.*?<p class="error">(.*?)</p>',
        page,
        re.S,
    )
    assert error[1] == message.format(**values)
    # The figures stay those of the default range, which the page names.
    assert figures_on(page)["Total Sent"] == "300"
    assert "until the dates above are corrected" in page


def test_it_accepts_the_longest_range(marketer_client, busy):
    query = f"?start={ago(MAX_DAYS - 1).isoformat()}&end={today().isoformat()}"
    page = marketer_client.get(stats_url(busy) + query).content.decode()

    assert "has-error" not in page
    assert figures_on(page)["Total Sent"] == "1,300"
    assert f"({MAX_DAYS} days)" in page


def test_it_refuses_an_unknown_preset(marketer_client, busy):
    page = unescape(marketer_client.get(stats_url(busy) + "?days=13").content.decode())

    assert "Choose the last 7, 30 or 90 days, or enter dates." in page
    assert figures_on(page)["Total Sent"] == "300"


def test_htmx_redraws_the_panel_and_names_the_range_in_the_address_bar(marketer_client, busy):
    url = stats_url(busy)

    response = marketer_client.get(url + "?days=7", headers={"HX-Request": "true"})

    page = response.content.decode().strip()
    assert page.startswith('<div id="stats-panel"')
    assert "<html" not in page
    assert response["HX-Push-Url"] == url + "?days=7"
    assert figures_on(page)["Total Sent"] == "200"
    assert f'href="{url}errors/?days=7">Errors' in page  # the tabs keep the range

    custom = marketer_client.get(
        url,
        {"start": ago(9).isoformat(), "end": ago(2).isoformat()},
        headers={"HX-Request": "true"},
    )
    assert custom["HX-Push-Url"] == f"{url}?start={ago(9).isoformat()}&end={ago(2).isoformat()}"

    bad = marketer_client.get(url + "?start=x&end=y", headers={"HX-Request": "true"})
    # Wrong dates redraw the form only: the figures and the address keep the last good range.
    assert "HX-Push-Url" not in bad
    assert (bad["HX-Retarget"], bad["HX-Reswap"]) == ("#range-custom", "outerHTML")
    form = bad.content.decode().strip()
    assert form.startswith('<form method="get"') and form.endswith("</form>")
    assert 'class="field has-error" id="field-start"' in form
    assert 'autofocus aria-invalid="true"' in form  # the first wrong date takes the focus

    errors = marketer_client.get(url + "errors/?days=90", headers={"HX-Request": "true"})
    assert errors.content.decode().strip().startswith('<div id="errors-panel"')
    assert errors["HX-Push-Url"] == url + "errors/?days=90"

    overview = marketer_client.get("/?days=90", headers={"HX-Request": "true"})
    assert overview.content.decode().strip().startswith('<div id="overview-panel"')
    assert overview["HX-Push-Url"] == "/?days=90"


# --- the Errors tab ----------------------------------------------------------------------------
def test_the_errors_tab_lists_codes_and_dispatch_reasons_with_their_share(
    marketer_client, campaign
):
    error(campaign, ago(1), "901", 6)
    error(campaign, ago(2), "901", 2)
    error(campaign, ago(1), "30003", 4)
    error(campaign, ago(1), "777", 1)  # a code we don't know: kept as sent
    error(campaign, ago(3), "dispatch:rejected", 5)
    error(campaign, ago(3), "dispatch:retries_exhausted", 2)
    error(campaign, ago(60), "902", 100)  # outside the range

    for url in (stats_url(campaign) + "errors/", stats_url(campaign.provider) + "errors/"):
        response = marketer_client.get(url)
        text = text_of(response)
        assert "20 errors in this period: 13 failed delivery reports, 7 dispatch errors." in text
        failed = re.search(r"Failed delivery reports by code.*?Dispatch errors", text)[0]
        assert (
            "901 DND failure 8 40 % 30003 Unreachable destination handset 4 20 % 777 — 1 5 %"
            in failed
        )
        dispatch = text[text.index("Dispatch errors by reason") :]
        assert "Rejected by the provider 5 25 %" in dispatch
        assert "Retries exhausted 2 10 %" in dispatch


def test_the_errors_tab_says_when_there_are_none(marketer_client, campaign):
    page = marketer_client.get(stats_url(campaign) + "errors/").content.decode()

    assert "No errors in this period" in page
    assert "<table" not in page


# --- the overview ------------------------------------------------------------------------------
def test_the_overview_compares_providers_and_lists_recent_campaigns(
    marketer_client, busy, provider, blind
):
    other = Campaign.objects.create(name="Blind promo", provider=blind, body="Hi", status="sent")
    stat(other, ago(2), sent=50, delivered=0, unique_clicks=5)
    latency(busy, ago(1), 2, 60)  # ≤ 5 s
    latency(busy, ago(1), 7, 35)  # ≤ 2 min
    latency(busy, ago(1), 14, 5)  # ≤ 1 day
    Campaign.objects.create(name="Unsent draft", provider=provider, body="Hi")

    response = marketer_client.get("/")
    page = response.content.decode()
    text = text_of(response)

    assert figures_on(page)["Total Sent"] == "350"
    # Only the providers with callbacks: the blind one cannot report a delivery.
    assert figures_on(page)["Delivery Rate"] == "80 %"  # 240 / 300
    comparison = text[text.index("Providers side by side") : text.index("Recent campaigns")]
    assert "Acme SMS Default 300 80 % 12.50 % ≤ 5 s ≤ 2 min" in comparison
    assert "Blind SMS 50 0 % (no delivery callbacks configured) 10 % — —" in comparison
    assert f'href="/settings/channels/sms/providers/{provider.pk}/stats/?days=30"' in page
    recent = text[text.index("Recent campaigns") :]
    assert "Blind promo Sent Blind SMS 50 0 % 10 %" in recent
    assert "Spring sale Sent Acme SMS 1,300 95.38 % 34.68 %" in recent  # over its whole life
    assert "Unsent draft" not in recent
    assert f'href="/campaigns/{busy.pk}/stats/"' in page


def test_the_overview_keeps_archived_providers_in_the_comparison(marketer_client, busy, provider):
    retire.archive_provider(provider, None)

    text = text_of(marketer_client.get("/"))

    assert "Every provider is archived" in text
    assert "Acme SMS Archived 300 80 %" in text


def test_the_overview_without_providers_invites_to_add_one(admin_client):
    page = admin_client.get("/").content.decode()

    assert "No SMS provider yet" in page
    assert "Providers side by side" not in page


# --- the lists ---------------------------------------------------------------------------------
def test_the_campaign_list_shows_each_delivery_rate(marketer_client, busy, blind):
    other = Campaign.objects.create(name="Blind promo", provider=blind, body="Hi", status="sent")
    stat(other, ago(2), sent=50, delivered=10)
    Campaign.objects.create(name="Unsent draft", provider=busy.provider, body="Hi")

    text = text_of(marketer_client.get("/campaigns/"))

    # name, status, provider, audience, recipients, sent (messages), delivery rate (rollups)
    assert re.search(r"Spring sale Sent Acme SMS — 0 0 95.38 %", text)
    assert re.search(r"Blind promo Sent Blind SMS — 0 0 0 %", text)
    assert re.search(r"Unsent draft Draft Acme SMS — 0 0 0 %", text)


def test_the_provider_list_shows_thirty_days_of_sent_and_delivery_rate(admin_client, busy, blind):
    response = admin_client.get("/settings/channels/sms/providers/")
    page = response.content.decode()
    text = text_of(response)

    assert "Sent (30 days)" in page
    assert "Delivery rate (30 days)" in page
    assert re.search(r"Acme SMS Generic \(HTTP\) Default 300 80 %", text), text
    assert re.search(r"Blind SMS Generic \(HTTP\) Active 0 0 %", text)


# --- constant cost -----------------------------------------------------------------------------
def fill(provider, size: int) -> None:
    """`size` campaigns, each with a row of every rollup on `size` days spread over 90 days."""
    campaigns = Campaign.objects.bulk_create(
        Campaign(name=f"C{i}", provider=provider, body="Hi", status="sent") for i in range(size)
    )
    days = [ago(n % 90) for n in range(size)]
    DailyStat.objects.bulk_create(
        DailyStat(provider=provider, campaign=c, day=d, sent=10, delivered=8, clicks=3,
                  unique_clicks=2, replies=1, dispatch_errors=1, failed=1)
        for c in campaigns for d in days[: max(3, size // 30)]
    )  # fmt: skip
    DailyError.objects.bulk_create(
        DailyError(provider=provider, campaign=c, day=days[0], code=code, count=1)
        for c in campaigns
        for code in ("901", "dispatch:rejected")
    )
    DailyLatency.objects.bulk_create(
        DailyLatency(provider=provider, campaign=c, day=days[0], bucket=3, count=4)
        for c in campaigns
    )


# Queries per page: session, user, permissions, then the page's own (object, totals, daily…).
LIMITS = {"campaign": 7, "provider": 7, "errors": 6, "overview": 13, "campaigns": 7, "providers": 6}


@pytest.mark.parametrize("size", [3, 300])
def test_every_stats_page_costs_the_same_whatever_the_data(
    django_assert_max_num_queries, admin_client, provider, blind, size
):
    fill(provider, size)
    fill(blind, size)
    campaign = Campaign.objects.filter(provider=provider).first()
    urls = {
        "campaign": stats_url(campaign) + "?days=90",
        "provider": stats_url(provider) + "?days=90",
        "errors": stats_url(provider) + "errors/?days=90",
        "overview": "/?days=90",
        "campaigns": "/campaigns/",
        "providers": "/settings/channels/sms/providers/",
    }
    admin_client.get("/")  # the session is warm, as for every page after the first
    for name, url in urls.items():
        with django_assert_max_num_queries(LIMITS[name]):
            assert admin_client.get(url).status_code == 200, url
    csv_url = stats_url(campaign) + "?days=90&format=csv"
    with django_assert_max_num_queries(LIMITS["campaign"]):
        assert len(b"".join(admin_client.get(csv_url).streaming_content).splitlines()) == 91
