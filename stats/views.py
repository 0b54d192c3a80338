"""The overview page and the Stats and Errors tabs of a campaign and of a provider (SPEC §7),
with the helpers they share: the date range, the figure cards, the charts, the CSV.

Every page reads the rollups through stats.figures with a fixed number of queries. A range
change (htmx) redraws the page's panel only and puts the range in the address bar.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django_htmx.http import push_url, reswap, retarget

from accounts.roles import MANAGE_CAMPAIGNS, VIEW_PROVIDER_STATS
from campaigns.models import Campaign, CampaignStatus
from providers.models import Provider
from smshub.csvexport import csv_lines

from . import charts
from .figures import (
    PRESETS,
    DateRange,
    Day,
    Figures,
    Latency,
    Scope,
    campaign_figures,
    daily,
    errors,
    figures,
    provider_comparison,
)
from .forms import RangeForm, range_query
from .rollups import LATENCY_BUCKETS

marketers = permission_required(MANAGE_CAMPAIGNS, raise_exception=True)
stats_viewers = permission_required(VIEW_PROVIDER_STATS, raise_exception=True)

TIMES = "\N{MULTIPLICATION SIGN}"  # in the formulas shown
CSV_COLUMNS = ("day", "sent", "delivered", "errors", "clicks", "unique_clicks", "ctr")
RECENT_CAMPAIGNS = 5


# --- pages -------------------------------------------------------------------------------------
def overview(request):
    """Stats over all providers, the providers side by side and the recent campaigns (SPEC §7),
    for marketers and admins; a user without a role sees the providers' state only."""
    if not request.user.has_perm(VIEW_PROVIDER_STATS):
        providers = Provider.objects.active()
        return render(
            request,
            "stats/overview.html",
            {"provider_count": providers.count(), "default_provider": providers.default()},
        )
    chosen = chosen_range(request)
    span = chosen.span
    comparison = provider_comparison(span)  # every provider, archived ones too
    active = [row.provider for row in comparison if not row.provider.is_archived]
    overall = figures(Scope(), span)
    days = daily(Scope(), span, has_callbacks=overall.has_callbacks)
    if request.GET.get("format") == "csv":
        return csv_response(chosen, days, "all-providers")
    recent = list(
        Campaign.objects.select_related("provider")
        .exclude(status=CampaignStatus.DRAFT)
        .order_by("-created_at", "-pk")[:RECENT_CAMPAIGNS]
    )
    lifetime = campaign_figures(recent)
    context = {
        **chosen.context(),
        "has_providers": bool(comparison),
        "provider_count": len(active),
        "default_provider": next((p for p in active if p.is_default), None),
        "figures": overall,
        "cards": cards(overall),
        "days": days,
        "delivery_chart": delivery_chart(days),
        "comparison": [(row, latency_text(row.latency)) for row in comparison],
        "recent": [(campaign, lifetime[campaign.pk]) for campaign in recent],
    }
    return render_panel(request, "stats/overview.html", "overview-panel", context, chosen)


@marketers
def campaign_stats(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("provider"), pk=pk)
    context = {"campaign": campaign, "tab": "stats"}
    return stats_page(request, Scope(campaign=campaign), context, f"campaign-{campaign.pk}")


@stats_viewers
def provider_stats(request, pk: int):
    # Marketers reach this tab too: the template shows the nickname, never the configuration.
    # Archived providers keep their stats; a deleted one is gone (404).
    provider = get_object_or_404(Provider, pk=pk)
    context = {"provider": provider, "tab": "stats"}
    return stats_page(request, Scope(provider=provider), context, f"provider-{provider.pk}")


@marketers
def campaign_errors(request, pk: int):
    campaign = get_object_or_404(Campaign.objects.select_related("provider"), pk=pk)
    return errors_page(request, Scope(campaign=campaign), {"campaign": campaign, "tab": "errors"})


@stats_viewers
def provider_errors(request, pk: int):
    provider = get_object_or_404(Provider, pk=pk)
    return errors_page(request, Scope(provider=provider), {"provider": provider, "tab": "errors"})


def stats_page(request, scope: Scope, context: dict, name: str):
    """The Stats tab: figures, the two charts, the daily table; `?format=csv` the CSV."""
    chosen = chosen_range(request)
    shown = figures(scope, chosen.span)
    days = daily(scope, chosen.span, has_callbacks=shown.has_callbacks)
    if request.GET.get("format") == "csv":
        return csv_response(chosen, days, name)
    context = {
        **context,
        **chosen.context(),
        "figures": shown,
        "cards": cards(shown),
        "days": days,
        "delivery_chart": delivery_chart(days),
        "ctr_chart": ctr_chart(days),
    }
    return render_panel(request, "stats/stats.html", "stats-panel", context, chosen)


def errors_page(request, scope: Scope, context: dict):
    """The Errors tab: failed reports by code and dispatch errors by reason, with shares."""
    chosen = chosen_range(request)
    failed, dispatch = errors(scope, chosen.span)
    context = {
        **context,
        **chosen.context(),
        "failed": failed,
        "dispatch": dispatch,
        "failed_total": sum(row.count for row in failed),
        "dispatch_total": sum(row.count for row in dispatch),
        "total": sum(row.count for row in failed + dispatch),
    }
    return render_panel(request, "stats/errors.html", "errors-panel", context, chosen)


# --- the date range ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ChosenRange:
    form: RangeForm  # as submitted: its errors are shown at the fields
    span: DateRange  # the range shown (the default one when the form has errors)

    @property
    def query(self) -> str:
        return range_query(self.span)

    def context(self) -> dict:
        return {
            "span": self.span,
            "range_form": self.shown_form(),
            "range_query": self.query,
            "presets": PRESETS,
        }

    def shown_form(self) -> RangeForm:
        """The custom-range fields show the dates in use, unless the user's dates were wrong."""
        if self.form.errors or self.form.is_custom:
            return self.form
        dates = {"start": self.span.start.isoformat(), "end": self.span.end.isoformat()}
        return RangeForm(dates, today=self.form.today)


def chosen_range(request) -> ChosenRange:
    form = RangeForm(request.GET, today=timezone.localdate())
    return ChosenRange(form, form.range())


def render_panel(request, template: str, panel: str, context: dict, chosen: ChosenRange):
    """The whole page, or for htmx its panel only, the address bar then naming the range."""
    context = {**context, "panel": panel}
    if request.htmx and not request.htmx.history_restore_request:
        if chosen.form.errors:
            # Only the fields change, with their errors: the figures of the last good range stay,
            # as does the address.
            response = render(request, "stats/_range.html#range-form", context)
            return reswap(retarget(response, "#range-custom"), "outerHTML")
        response = render(request, f"{template}#{panel}", context)
        return push_url(response, f"{request.path}?{chosen.query}")
    return render(request, template, context)


# --- figures as shown --------------------------------------------------------------------------
def number(value: float) -> str:
    """1,234 / 12.5 / 1,234.57: at most two decimals, none when whole."""
    return floatformat(value, "-2g")


def rate(value: float) -> str:
    return f"{number(value)} %"


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    tip: str  # the formula: a title and visually hidden text
    note: str = ""


def cards(shown: Figures) -> list[Card]:
    totals, days = shown.totals, shown.range.days
    no_callbacks = "" if shown.has_callbacks else " No delivery callbacks are configured."
    base = "Delivered" if shown.has_callbacks else "Sent (no delivery callbacks configured)"
    return [
        Card(
            "Total Sent",
            number(totals.sent),
            "Messages the provider accepted, counted on the day they were sent.",
        ),
        Card(
            "Total Delivered",
            number(totals.delivered),
            "Messages with a delivery report, each counted once." + no_callbacks,
        ),
        Card(
            "Total Clicks",
            number(totals.clicks),
            "Click events. Unique clicks: messages with at least one click.",
            f"{number(totals.unique_clicks)} unique",
        ),
        Card("Total Replies", number(totals.replies), "Reply events from recipients."),
        Card(
            "Total Errors",
            number(totals.errors),
            "Dispatch errors + messages with a failed delivery report.",
            f"{number(totals.dispatch_errors)} dispatch · {number(totals.failed)} failed",
        ),
        Card(
            "Delivery Rate",
            rate(shown.delivery_rate),
            f"Delivered ÷ Sent {TIMES} 100; shown as 0 when the provider has no delivery callbacks "
            "configured.",
        ),
        Card("CTR", rate(shown.ctr), f"Unique clicks ÷ {base} {TIMES} 100."),
        Card(
            "Daily Avg Sent",
            number(shown.daily_avg_sent),
            f"Total Sent ÷ {days} day{'s' if days != 1 else ''} in the range.",
        ),
        Card(
            "Daily Avg Delivery",
            number(shown.daily_avg_delivered),
            f"Total Delivered ÷ {days} day{'s' if days != 1 else ''} in the range: messages "
            "delivered per day (a count, not a percentage).",
        ),
    ]


def duration(seconds: float) -> str:
    """A latency bucket's upper bound as read: ≤ 5 s, ≤ 2 min, ≤ 6 h; the last bucket is open."""
    if seconds >= LATENCY_BUCKETS[-1]:
        return "> " + duration(LATENCY_BUCKETS[-2]).removeprefix("≤ ")
    for size, unit in ((3600, "h"), (60, "min")):
        if seconds >= size:
            return f"≤ {number(seconds / size)} {unit}"
    return f"≤ {number(seconds)} s"


@dataclass(frozen=True)
class LatencyText:
    median: str
    p95: str


def latency_text(latency: Latency) -> LatencyText:
    if latency.median is None or latency.p95 is None:
        return LatencyText("—", "—")
    return LatencyText(duration(latency.median), duration(latency.p95))


def delivery_chart(days: list[Day], id: str = "delivery-chart") -> charts.Chart:
    return charts.line_chart(
        id,
        "SMS Delivery Stats",
        [d.day for d in days],
        [
            charts.Series("sent", "Sent", [d.sent for d in days]),
            charts.Series("delivered", "Delivered", [d.delivered for d in days]),
            charts.Series("errors", "Errors", [d.errors for d in days]),
            charts.Series("clicks", "Clicks", [d.clicks for d in days]),
        ],
    )


def ctr_chart(days: list[Day]) -> charts.Chart:
    return charts.line_chart(
        "ctr-chart",
        "Performance: CTR per day",
        [d.day for d in days],
        [charts.Series("ctr", "CTR", [d.ctr for d in days], unit=" %")],
        integers=False,
        unit="%",
        value_text=number,
    )


# --- CSV ---------------------------------------------------------------------------------------
def csv_response(chosen: ChosenRange, days: list[Day], name: str) -> HttpResponse:
    """The daily figures of the range, streamed: day,sent,delivered,errors,clicks,unique_clicks,
    ctr (a percentage with two decimals)."""
    if chosen.form.errors:
        message = "; ".join(e for errs in chosen.form.errors.values() for e in errs)
        return HttpResponseBadRequest(f"Bad date range: {message}\n", content_type="text/plain")

    rows = (
        (d.day.isoformat(), d.sent, d.delivered, d.errors, d.clicks, d.unique_clicks,
         f"{d.ctr:.2f}")
        for d in days
    )  # fmt: skip

    span = chosen.span
    response = StreamingHttpResponse(
        csv_lines(CSV_COLUMNS, rows, lineterminator="\n"), content_type="text/csv; charset=utf-8"
    )
    filename = f"sms-stats-{name}-{span.start:%Y-%m-%d}-to-{span.end:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
