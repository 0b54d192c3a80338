from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.roles import VIEW_AUDIT_LOG

from .models import AuditEntry


@permission_required(VIEW_AUDIT_LOG, raise_exception=True)
def audit_log(request):
    entries = AuditEntry.objects.select_related("actor")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "audit/list.html", {"page": page})
