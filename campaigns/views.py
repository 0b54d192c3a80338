"""Campaign pages (marketers and admins). Views validate and call campaigns.services."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from accounts.roles import MANAGE_CAMPAIGNS

from .models import Campaign

marketers = permission_required(MANAGE_CAMPAIGNS, raise_exception=True)


@marketers
def campaign_list(request):
    campaigns = Campaign.objects.select_related("provider", "audience")
    return render(request, "campaigns/list.html", {"campaigns": campaigns})
