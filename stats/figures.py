"""The figures of the stats pages and their formulas, in one place (SPEC §7).

Everything is read from the per-day rollups with a fixed number of grouped queries, so a
page costs the same for ten thousand and ten million messages. Every rate whose denominator
is zero is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from callbacks.events import error_description
from campaigns.models import Campaign, DispatchReason
from providers import registry
from providers.models import Provider

from .models import COUNTERS, DailyError, DailyLatency, DailyStat
from .rollups import LATENCY_BUCKETS

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class DateRange:
    """Days `start` to `end`, both included, in the site's time zone."""

    start: date
    end: date
    preset: int | None = None  # 7, 30 or 90 when chosen from the presets

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    @classmethod
    def last(cls, days: int, today: date) -> DateRange:
        return cls(today - timedelta(days=days - 1), today, days)


@dataclass(frozen=True)
class Scope:
    """Whose stats: one provider, one campaign, or every provider (the overview)."""

    provider: Provider | None = None
    campaign: Campaign | None = None

    def filter(self, queryset: QuerySet) -> QuerySet:
        if self.campaign is not None:
            return queryset.filter(campaign=self.campaign)
        if self.provider is not None:
            return queryset.filter(provider=self.provider)
        return queryset

    @property
    def has_callbacks(self) -> bool:
        """Whether delivery reports can arrive (SPEC §2.2): else Delivery Rate is 0 and CTR
        is counted on sent messages. The overview counts as having them when any provider
        does."""
        provider = self.campaign.provider if self.campaign else self.provider
        if provider is not None:
            return registry.has_callbacks(provider)
        if self.campaign is not None:  # its provider was deleted
            return False
        return any(registry.has_callbacks(p) for p in Provider.objects.all())


def percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0


@dataclass(frozen=True)
class Totals:
    sent: int = 0
    dispatch_errors: int = 0
    skipped: int = 0
    delivered: int = 0
    failed: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    replies: int = 0

    @property
    def errors(self) -> int:
        """Total Errors: dispatch errors + messages with a failed report."""
        return self.dispatch_errors + self.failed


@dataclass(frozen=True)
class Figures:
    totals: Totals
    range: DateRange
    has_callbacks: bool
    # The overview's rates count only providers with callbacks (when some have them): a
    # provider that can never report a delivery would otherwise pull the rate down.
    rate_totals: Totals | None = None

    @property
    def delivery_rate(self) -> float:
        """Delivered / Sent * 100; 0 when the provider has no callbacks configured."""
        if not self.has_callbacks:
            return 0.0
        counted = self.rate_totals or self.totals
        return percent(counted.delivered, counted.sent)

    @property
    def ctr(self) -> float:
        """Unique clicks / Delivered * 100 with callbacks, else unique clicks / Sent * 100."""
        counted = self.rate_totals or self.totals
        base = counted.delivered if self.has_callbacks else counted.sent
        return percent(counted.unique_clicks, base)

    @property
    def daily_avg_sent(self) -> float:
        return round(self.totals.sent / self.range.days, 2)

    @property
    def daily_avg_delivered(self) -> float:
        """Delivered per day (the reference multiplies by 100; a count per day it is)."""
        return round(self.totals.delivered / self.range.days, 2)


def _in_range(queryset: QuerySet, scope: Scope, span: DateRange) -> QuerySet:
    return scope.filter(queryset).filter(day__gte=span.start, day__lte=span.end)


def totals(scope: Scope, span: DateRange) -> Totals:
    sums = _in_range(DailyStat.objects, scope, span).aggregate(**{c: Sum(c) for c in COUNTERS})
    return Totals(**{c: sums[c] or 0 for c in COUNTERS})


def figures(scope: Scope, span: DateRange) -> Figures:
    if scope.provider is not None or scope.campaign is not None:
        return Figures(totals(scope, span), span, scope.has_callbacks)
    providers = list(Provider.objects.all())
    reporting = [p.pk for p in providers if registry.has_callbacks(p)]
    rate_totals = None
    if reporting and len(reporting) < len(providers):
        sums = DailyStat.objects.filter(
            provider_id__in=reporting, day__gte=span.start, day__lte=span.end
        ).aggregate(**{c: Sum(c) for c in COUNTERS})
        rate_totals = Totals(**{c: sums[c] or 0 for c in COUNTERS})
    return Figures(totals(scope, span), span, bool(reporting), rate_totals)


@dataclass(frozen=True)
class Day:
    day: date
    sent: int
    delivered: int
    errors: int
    clicks: int
    unique_clicks: int
    ctr: float


def daily(scope: Scope, span: DateRange, *, has_callbacks: bool) -> list[Day]:
    """One row per day of the range (days without activity included, as zeros)."""
    rows = {
        row["day"]: row
        for row in _in_range(DailyStat.objects, scope, span)
        .values("day")
        .annotate(**{c: Sum(c) for c in COUNTERS})
    }
    result = []
    for day in span.each_day():
        row = rows.get(day) or dict.fromkeys(COUNTERS, 0)
        base = row["delivered"] if has_callbacks else row["sent"]
        result.append(
            Day(
                day,
                row["sent"],
                row["delivered"],
                row["dispatch_errors"] + row["failed"],
                row["clicks"],
                row["unique_clicks"],
                percent(row["unique_clicks"], base),
            )
        )
    return result


@dataclass(frozen=True)
class ErrorRow:
    code: str
    description: str
    count: int
    share: float  # of all errors of the range


def errors(scope: Scope, span: DateRange) -> tuple[list[ErrorRow], list[ErrorRow]]:
    """(failed reports by code, dispatch errors by reason), most frequent first; shares are
    of all errors, so the two tables add up to 100 %."""
    counts = (
        _in_range(DailyError.objects, scope, span)
        .values("code")
        .annotate(n=Sum("count"))
        .filter(~Q(n=0))
        .order_by("-n", "code")
    )
    rows = [(row["code"], row["n"]) for row in counts]
    total = sum(n for _, n in rows)
    reasons = dict(DispatchReason.choices)
    failed, dispatch = [], []
    for code, n in rows:
        if code.startswith("dispatch:"):
            reason = code.split(":", 1)[1]
            dispatch.append(ErrorRow(reason, reasons.get(reason, reason), n, percent(n, total)))
        else:
            failed.append(ErrorRow(code, error_description(code, ""), n, percent(n, total)))
    return failed, dispatch


@dataclass(frozen=True)
class Latency:
    """Sent-to-delivered time, in seconds: the upper bound of the histogram bucket holding
    the median and the 95th percentile (None without deliveries)."""

    median: float | None
    p95: float | None
    count: int


def latency(scope: Scope, span: DateRange) -> Latency:
    buckets = dict(
        _in_range(DailyLatency.objects, scope, span)
        .values("bucket")
        .annotate(n=Sum("count"))
        .values_list("bucket", "n")
    )
    return _latency_from(buckets)


def _latency_from(buckets: dict[int, int]) -> Latency:
    count = sum(buckets.values())
    if not count:
        return Latency(None, None, 0)

    def at(share: float) -> float:
        seen = 0
        for bucket in sorted(buckets):
            seen += buckets[bucket]
            if seen >= share * count:
                return float(LATENCY_BUCKETS[min(bucket, len(LATENCY_BUCKETS) - 1)])
        return float(LATENCY_BUCKETS[-1])

    return Latency(at(0.5), at(0.95), count)


@dataclass(frozen=True)
class ProviderRow:
    provider: Provider
    figures: Figures
    latency: Latency


def provider_comparison(span: DateRange) -> list[ProviderRow]:
    """Every provider side by side (archived ones too: their stats stay), in three queries."""
    providers = list(Provider.objects.all())
    sums = {
        row["provider_id"]: row
        for row in DailyStat.objects.filter(day__gte=span.start, day__lte=span.end)
        .values("provider_id")
        .annotate(**{c: Sum(c) for c in COUNTERS})
    }
    histograms: dict[int, dict[int, int]] = {}
    for row in (
        DailyLatency.objects.filter(day__gte=span.start, day__lte=span.end)
        .values("provider_id", "bucket")
        .annotate(n=Sum("count"))
    ):
        histograms.setdefault(row["provider_id"], {})[row["bucket"]] = row["n"]
    result = []
    for provider in providers:
        row = sums.get(provider.pk)
        counts = Totals(**{c: row[c] or 0 for c in COUNTERS}) if row else Totals()
        figures_of = Figures(counts, span, registry.has_callbacks(provider))
        result.append(
            ProviderRow(provider, figures_of, _latency_from(histograms.get(provider.pk, {})))
        )
    return result


def campaign_figures(
    campaigns: list[Campaign], span: DateRange | None = None
) -> dict[int, Figures]:
    """Each campaign's figures in one grouped query, over `span` or, without it, over the
    campaign's whole life (its first to last day with activity). Load the campaigns with their
    provider (`select_related("provider")`): it decides has_callbacks."""
    rows = DailyStat.objects.filter(campaign_id__in=[c.pk for c in campaigns])
    if span is not None:
        rows = rows.filter(day__gte=span.start, day__lte=span.end)
    sums = {
        row["campaign_id"]: row
        for row in rows.values("campaign_id").annotate(
            first=Min("day"), last=Max("day"), **{c: Sum(c) for c in COUNTERS}
        )
    }
    today = timezone.localdate()
    result = {}
    for campaign in campaigns:
        row = sums.get(campaign.pk)
        counts = Totals(**{c: row[c] or 0 for c in COUNTERS}) if row else Totals()
        days = span or (DateRange(row["first"], row["last"]) if row else DateRange(today, today))
        result[campaign.pk] = Figures(counts, days, Scope(campaign=campaign).has_callbacks)
    return result


def provider_figures(providers: list[Provider], span: DateRange) -> dict[int, Figures]:
    """Each provider's figures over `span`, in one grouped query (the provider list)."""
    sums = {
        row["provider_id"]: row
        for row in DailyStat.objects.filter(
            provider_id__in=[p.pk for p in providers], day__gte=span.start, day__lte=span.end
        )
        .values("provider_id")
        .annotate(**{c: Sum(c) for c in COUNTERS})
    }
    result = {}
    for provider in providers:
        row = sums.get(provider.pk)
        counts = Totals(**{c: row[c] or 0 for c in COUNTERS}) if row else Totals()
        result[provider.pk] = Figures(counts, span, registry.has_callbacks(provider))
    return result
