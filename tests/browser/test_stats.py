"""Reading stats in the browser (SPEC §7): a campaign's Stats and Errors tabs, the date range,
the chart's legend and hover values, the overview's provider comparison."""

from __future__ import annotations

import itertools
import math
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign
from stats.models import DailyError, DailyLatency, DailyStat
from tests.providers.helpers import create_generic

from .helpers import screenshot

# Rollups made by hand to fill the pages: no messages to recompute them from.
pytestmark = [pytest.mark.browser, pytest.mark.no_rollup_check]

WITH_CALLBACKS = '{"to": "$$To", "text": "$$Body", "ref": "$$MessageID"}'
WITHOUT_CALLBACKS = '{"to": "$$To", "text": "$$Body"}'


def ago(days: int):
    return timezone.localdate() - timedelta(days=days)


def ninety_days(campaign, scale: float = 1.0, *, delivers: bool = True) -> None:
    """A plausible quarter: weekday highs, weekend lows, a few percent errors and clicks."""
    rows, errors = [], []
    for n in range(90):
        day = ago(89 - n)
        weekend = day.weekday() >= 5
        sent = int(scale * (900 + 350 * math.sin(n / 7) + (-400 if weekend else 120)))
        delivered = int(sent * (0.86 + 0.06 * math.cos(n / 5))) if delivers else 0
        failed = int(sent * 0.03)
        dispatch = (n * 7) % 11
        clicks = int((delivered or sent) * (0.06 + 0.02 * math.sin(n / 4)))
        unique = int(clicks * 0.8)
        rows.append(
            DailyStat(
                provider=campaign.provider, campaign=campaign, day=day, sent=sent,
                delivered=delivered, failed=failed, dispatch_errors=dispatch, clicks=clicks,
                unique_clicks=unique, replies=n % 4,
            )
        )  # fmt: skip
        errors += [
            DailyError(provider=campaign.provider, campaign=campaign, day=day, code="914",
                       count=failed - failed // 3),
            DailyError(provider=campaign.provider, campaign=campaign, day=day, code="901",
                       count=failed // 3),
        ]  # fmt: skip
        if dispatch:
            errors.append(
                DailyError(provider=campaign.provider, campaign=campaign, day=day,
                           code="dispatch:rejected", count=dispatch)
            )  # fmt: skip
    DailyStat.objects.bulk_create(rows)
    DailyError.objects.bulk_create(errors)
    if not delivers:
        return
    DailyLatency.objects.bulk_create(
        DailyLatency(provider=campaign.provider, campaign=campaign, day=ago(n), bucket=b, count=c)
        for n in range(90)
        for b, c in ((2, 50), (4, 30), (8, 15), (11, 5))
    )


@pytest.fixture
def quarter(site):
    """Two providers, one without delivery callbacks, and a campaign each with 90 days."""
    acme = create_generic(None, nickname="Acme SMS", json_body=WITH_CALLBACKS)
    blind = create_generic(
        None, nickname="Blind SMS", json_body=WITHOUT_CALLBACKS, endpoint="https://b.example/sms"
    )
    spring = Campaign.objects.create(name="Spring sale", provider=acme, body="Hi", status="sent")
    promo = Campaign.objects.create(name="Summer promo", provider=blind, body="Hi", status="sent")
    ninety_days(spring)
    ninety_days(promo, scale=0.4, delivers=False)
    return spring


def test_a_marketer_reads_a_campaigns_stats_and_errors(marketer_page, quarter):
    page = marketer_page

    page.goto("/campaigns/")
    page.get_by_role("link", name="Spring sale").click()
    page.get_by_role("navigation", name="Campaign").get_by_role("link", name="Stats").click()

    expect(page).to_have_url(re.compile(rf"/campaigns/{quarter.pk}/stats/$"))
    expect(page.get_by_role("link", name="Last 30 days")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("img", name=re.compile("SMS Delivery Stats"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Performance"))).to_be_visible()
    screenshot(page, "stats-campaign-30-days")

    page.get_by_role("link", name="Last 7 days").click()

    expect(page).to_have_url(re.compile(rf"/campaigns/{quarter.pk}/stats/\?days=7$"))
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute("aria-current", "true")
    expect(page.locator("#stats-panel")).not_to_have_class(re.compile("htmx-request"))
    table = page.locator("details.chart-data table")
    expect(table.locator("tbody tr")).to_have_count(7)
    expect(page.locator("#delivery-chart .chart-bands rect")).to_have_count(7)

    sent = page.locator('#delivery-chart [data-series="sent"]')
    expect(sent).to_be_visible()
    legend = page.get_by_role("group", name=re.compile("Show or hide a series of SMS Delivery"))
    legend.get_by_role("button", name="Sent").click()
    expect(legend.get_by_role("button", name="Sent")).to_have_attribute("aria-pressed", "false")
    expect(sent).to_be_hidden()
    expect(page.locator('#delivery-chart [data-series="clicks"]')).to_be_visible()

    # With Delivered hidden too, the y axis fits errors and clicks.
    top_label = page.locator("#delivery-chart .chart-ylabel").last
    expect(top_label).to_have_text(re.compile(r"k$"))
    legend.get_by_role("button", name="Delivered").click()
    expect(top_label).to_have_text(re.compile(r"^\d{2,3}$"))
    screenshot(page, "stats-campaign-errors-and-clicks")
    legend.get_by_role("button", name="Delivered").click()
    expect(top_label).to_have_text(re.compile(r"k$"))

    # Hovering a day shows its values, without the hidden series.
    page.locator("#delivery-chart .chart-bands rect").nth(3).hover()
    tip = page.locator("#delivery-chart [data-chart-tip]")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Delivered")
    expect(tip).not_to_contain_text("Sent")
    screenshot(page, "stats-campaign-7-days-sent-hidden")

    # And back with the keyboard.
    legend.get_by_role("button", name="Sent").focus()
    page.keyboard.press("Space")
    expect(legend.get_by_role("button", name="Sent")).to_have_attribute("aria-pressed", "true")
    expect(sent).to_be_visible()

    tabs = page.get_by_role("navigation", name="Campaign")
    tabs.get_by_role("link", name="Errors").click()

    expect(page).to_have_url(re.compile(rf"/campaigns/{quarter.pk}/stats/errors/\?days=7$"))
    expect(tabs.get_by_role("link", name="Errors")).to_have_attribute("aria-current", "page")
    codes = page.get_by_role("table", name="Failed delivery reports by error code")
    expect(codes.locator("tbody tr")).to_have_count(2)
    expect(codes.locator("tbody tr").first).to_contain_text("914")
    expect(codes.locator("tbody tr").first).to_contain_text("Undelivered")
    reasons = page.get_by_role("table", name="Dispatch errors by reason")
    expect(reasons.locator("tbody tr")).to_have_count(1)
    expect(reasons).to_contain_text("Rejected by the provider")
    screenshot(page, "stats-campaign-errors")


def test_the_chart_stays_readable_at_ninety_days(marketer_page, quarter):
    page = marketer_page

    page.goto(f"/campaigns/{quarter.pk}/stats/")
    page.get_by_role("link", name="Last 90 days").click()

    expect(page).to_have_url(re.compile(r"\?days=90$"))
    chart = page.locator("#delivery-chart")
    expect(chart.locator(".chart-bands rect")).to_have_count(90)
    expect(chart.locator(".chart-xlabel")).to_have_count(13)
    # The date labels never overlap.
    boxes = [label.bounding_box() for label in chart.locator(".chart-xlabel").all()]
    for left, right in itertools.pairwise(boxes):
        assert left["x"] + left["width"] + 8 < right["x"]

    chart.locator(".chart-svg").focus()
    page.keyboard.press("End")
    tip = chart.locator("[data-chart-tip]")
    expect(tip).to_be_visible()
    day = timezone.localdate()
    expect(tip).to_contain_text(f"{day:%a} {day.day} {day:%b %Y}")
    page.keyboard.press("ArrowLeft")
    day -= timedelta(days=1)
    expect(tip).to_contain_text(f"{day:%a} {day.day} {day:%b %Y}")
    screenshot(page, "stats-campaign-90-days")

    page.get_by_text("Daily numbers as a table").click()
    expect(page.locator("details.chart-data table tbody tr")).to_have_count(90)


def test_a_custom_range_is_kept_in_the_address_and_checked(marketer_page, quarter):
    page = marketer_page
    start, end = ago(20), ago(6)

    page.goto(f"/campaigns/{quarter.pk}/stats/")
    page.get_by_label("From", exact=True).fill(start.isoformat())
    page.get_by_label("To", exact=True).fill(end.isoformat())
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(rf"\?start={start.isoformat()}&end={end.isoformat()}$"))
    expect(page.get_by_text("(15 days)")).to_be_visible()
    expect(page.locator("#delivery-chart .chart-bands rect")).to_have_count(15)

    page.get_by_label("From", exact=True).fill(end.isoformat())
    page.get_by_label("To", exact=True).fill(start.isoformat())
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_text("The last day must be on or after the first day.")).to_be_visible()
    expect(page.get_by_label("To", exact=True)).to_be_focused()
    # The figures and the address stay those of the last good range.
    expect(page.get_by_text("(15 days)")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?start={start.isoformat()}&end={end.isoformat()}$"))
    screenshot(page, "stats-range-error")

    page.reload()
    expect(page.get_by_text("(15 days)")).to_be_visible()


def test_the_overview_compares_providers(marketer_page, quarter):
    page = marketer_page

    page.goto("/")

    comparison = page.get_by_role("table", name=re.compile("Providers side by side"))
    expect(comparison.locator("tbody tr")).to_have_count(2)
    acme = comparison.get_by_role("row").filter(has_text="Acme SMS")
    expect(acme.get_by_role("cell").nth(1)).to_contain_text("%")
    expect(acme.get_by_role("cell").nth(3)).to_have_text("≤ 5 s")
    expect(acme.get_by_role("cell").nth(4)).to_have_text("≤ 5 min")
    blind = comparison.get_by_role("row").filter(has_text="Blind SMS")
    expect(blind.get_by_role("cell").nth(1)).to_contain_text("0 %")
    expect(page.get_by_role("table", name=re.compile("Recent campaigns"))).to_contain_text(
        "Summer promo"
    )
    screenshot(page, "stats-overview")

    page.get_by_role("link", name="Last 7 days").click()
    expect(page).to_have_url(re.compile(r"/\?days=7$"))
    acme.get_by_role("link", name="Acme SMS").click()

    expect(page).to_have_url(re.compile(rf"/providers/{quarter.provider_id}/stats/\?days=7$"))
    tabs = page.get_by_role("navigation", name="Provider")
    expect(tabs.get_by_role("link")).to_have_text(["Stats", "Errors", "Events"])
    expect(page.get_by_text("b.example")).to_have_count(0)
    screenshot(page, "stats-provider-marketer")


def test_a_provider_without_callbacks_says_why_its_rates_are_zero(admin_page, quarter):
    page = admin_page
    blind = Campaign.objects.get(name="Summer promo").provider

    page.goto("/settings/channels/sms/providers/")
    expect(page.get_by_role("row").filter(has_text="Blind SMS")).to_contain_text("0 %")
    page.get_by_role("link", name="Blind SMS").click()
    page.get_by_role("navigation", name="Provider").get_by_role("link", name="Stats").click()

    expect(page).to_have_url(re.compile(rf"/providers/{blind.pk}/stats/$"))
    expect(
        page.get_by_text("No delivery callbacks are configured for this provider")
    ).to_be_visible()
    tabs = page.get_by_role("navigation", name="Provider")
    expect(tabs.get_by_role("link")).to_have_text(["Setup", "Stats", "Errors", "Events"])
    screenshot(page, "stats-provider-no-callbacks")
