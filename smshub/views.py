"""Site-wide views: the overview page, the health check and friendly error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.roles import VIEW_PROVIDER_STATS
from campaigns.models import Campaign, CampaignStatus
from providers.models import Provider
from stats import figures as stats_figures
from stats import views as stats_views

from .celery import app as celery_app

RECENT_CAMPAIGNS = 5


def overview(request):
    """Stats over all providers, the providers side by side and the recent campaigns (SPEC §7),
    for marketers and admins; a user without a role sees the providers' state only."""
    if not request.user.has_perm(VIEW_PROVIDER_STATS):
        providers = Provider.objects.active()
        return render(
            request,
            "overview.html",
            {"provider_count": providers.count(), "default_provider": providers.default()},
        )
    chosen = stats_views.chosen_range(request)
    span = chosen.span
    comparison = stats_figures.provider_comparison(span)  # every provider, archived ones too
    active = [row.provider for row in comparison if not row.provider.is_archived]
    overall = stats_figures.figures(stats_figures.Scope(), span)
    days = stats_figures.daily(stats_figures.Scope(), span, has_callbacks=overall.has_callbacks)
    if request.GET.get("format") == "csv":
        return stats_views.csv_response(chosen, days, "all-providers")
    recent = list(
        Campaign.objects.select_related("provider")
        .exclude(status=CampaignStatus.DRAFT)
        .order_by("-created_at", "-pk")[:RECENT_CAMPAIGNS]
    )
    lifetime = stats_figures.campaign_figures(recent)
    context = {
        **chosen.context(),
        "has_providers": bool(comparison),
        "provider_count": len(active),
        "default_provider": next((p for p in active if p.is_default), None),
        "figures": overall,
        "cards": stats_views.cards(overall),
        "days": days,
        "delivery_chart": stats_views.delivery_chart(days),
        "comparison": [(row, stats_views.latency_text(row.latency)) for row in comparison],
        "recent": [(campaign, lifetime[campaign.pk]) for campaign in recent],
    }
    return stats_views.render_panel(request, "overview.html", "overview-panel", context, chosen)


@login_not_required
@never_cache
def healthz(request):
    """200 when the database and the Celery broker answer, 503 otherwise (for load balancers)."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unreachable" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    return render(request, "errors/500.html", status=500)
