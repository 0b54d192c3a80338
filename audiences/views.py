"""Audience pages (marketers and admins). Views validate and call audiences.services."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from accounts.roles import MANAGE_AUDIENCES

from .models import Audience

marketers = permission_required(MANAGE_AUDIENCES, raise_exception=True)


@marketers
def audience_list(request):
    return render(request, "audiences/list.html", {"audiences": Audience.objects.all()})
