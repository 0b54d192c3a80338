"""Audience pages (marketers and admins). Views validate and call audiences.services."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.roles import MANAGE_AUDIENCES
from smshub.csvexport import csv_lines

from . import imports, services
from .forms import ColumnsForm, ContactSearchForm, UploadForm
from .models import Audience, Contact, Import, ImportStatus, OptOut
from .uploads import SizeLimit

marketers = permission_required(MANAGE_AUDIENCES, raise_exception=True)

CONTACTS_PER_PAGE = 50
REJECTED_SHOWN = 100
# A running import that recorded no progress for this long is shown as stalled (the sweeper
# restarts it after IMPORT_STALL_AFTER).
STALLED_AFTER = timedelta(minutes=2)


@marketers
def audience_list(request):
    opted_out = (
        Contact.objects.filter(audience=OuterRef("pk"), phone__in=OptOut.objects.values("phone"))
        .order_by()
        .values("audience")
        .annotate(n=Count("*"))
        .values("n")
    )
    latest = Import.objects.filter(audience=OuterRef("pk")).order_by("-created_at")
    audiences = list(
        Audience.objects.annotate(
            opted_out=Coalesce(Subquery(opted_out, output_field=IntegerField()), Value(0)),
            latest_import_id=Subquery(latest.values("pk")[:1]),
        )
    )
    latest_imports = Import.objects.in_bulk([a.latest_import_id for a in audiences])
    for audience in audiences:
        audience.latest_import = latest_imports.get(audience.latest_import_id)
    return render(request, "audiences/list.html", {"audiences": audiences})


@csrf_exempt  # checked by _new_import, once the size limit is the first upload handler
@marketers
def new_import(request):
    limit = SizeLimit(request, settings.AUDIENCE_MAX_UPLOAD_BYTES)
    request.upload_handlers.insert(0, limit)
    return _new_import(request, limit)


@csrf_protect
def _new_import(request, limit: SizeLimit):
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, too_large="file" in limit.skipped)
        if form.is_valid():
            try:
                job = services.start_import(
                    form.cleaned_data["file"], form.cleaned_data["target"], request.user
                )
            except imports.HeaderError as error:
                form.add_error("file", str(error))
            except IntegrityError:  # the same name was taken a moment ago
                form.add_error("new_name", "An audience of this name already exists.")
            else:
                return redirect("audiences:import", pk=job.pk)
    else:
        form = UploadForm(initial={"audience": request.GET.get("audience")})
    return render(request, "audiences/new_import.html", {"form": form})


@marketers
def import_detail(request, pk: int):
    job = get_object_or_404(Import.objects.select_related("audience"), pk=pk)
    form = None
    if job.status == ImportStatus.CHOOSING_COLUMNS:
        form = ColumnsForm(request.POST or None, job=job)
        if request.method == "POST" and form.is_valid():
            services.choose_columns(
                job, form.cleaned_data["phone_column"], form.cleaned_data["default_country"]
            )
            return redirect("audiences:import", pk=job.pk)
    elif request.method == "POST":  # started already (a second click): show its progress
        return redirect("audiences:import", pk=job.pk)
    context = {"job": job, "form": form, **_status_context(job)}
    if form is not None:
        context["preview"] = _preview(job)
    if request.htmx:
        return render(request, "audiences/import.html#import-status", context)
    return render(request, "audiences/import.html", context)


def _preview(job: Import) -> list[list[str]] | None:
    try:
        return imports.preview(job)
    except OSError:
        return None


def _status_context(job: Import) -> dict:
    percent = 0
    if job.status == ImportStatus.DONE:
        percent = 100
    elif job.size_bytes:
        percent = min(99, job.processed_bytes * 100 // job.size_bytes)
    return {
        "percent": percent,
        "polling": job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        "stalled": job.status == ImportStatus.RUNNING
        and job.progress_at is not None
        and timezone.now() - job.progress_at > STALLED_AFTER,
        "rejected_rows": job.rejected_rows.all()[:REJECTED_SHOWN]
        if job.status in (ImportStatus.DONE, ImportStatus.FAILED)
        else [],
        "rejected_shown": REJECTED_SHOWN,
    }


@marketers
def rejected_csv(request, pk: int):
    job = get_object_or_404(Import, pk=pk)
    rows = job.rejected_rows.order_by("line").values_list("line", "reason", "raw")

    def lines():
        # The rows are whatever the file held: smshub.csvexport escapes formulas.
        out = csv_lines(["line", "reason", "row"], rows.iterator(chunk_size=2000))
        # A byte order mark, so spreadsheet programs read the file as UTF-8.
        yield "\ufeff" + next(out)
        yield from out

    stem = re.sub(r"\.(csv|txt)$", "", job.original_name, flags=re.IGNORECASE) or "import"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{stem}-rejected-rows.csv")
    return response


class _KnownCountPaginator(Paginator):
    """A paginator that takes the number of rows it is told (the audience's contact count)
    instead of counting a million rows on every page."""

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


@marketers
def audience_detail(request, pk: int):
    audience = get_object_or_404(Audience, pk=pk)
    search = ContactSearchForm(request.GET or None)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    contacts = Contact.objects.filter(audience=audience).order_by("phone")
    if query:
        digits = re.sub(r"\D", "", query)
        contacts = contacts.filter(phone__contains=digits) if digits else contacts.none()
        paginator = Paginator(contacts, CONTACTS_PER_PAGE)
    else:
        paginator = _KnownCountPaginator(contacts, CONTACTS_PER_PAGE, count=audience.contact_count)
    page = paginator.get_page(request.GET.get("page"))
    opted_out = set(
        OptOut.objects.filter(phone__in=[c.phone for c in page]).values_list("phone", flat=True)
    )
    for contact in page:
        contact.opted_out = contact.phone in opted_out
    return render(
        request,
        "audiences/detail.html",
        {
            "audience": audience,
            "page": page,
            "search": search,
            "query": query,
            "opted_out_count": Contact.objects.filter(
                audience=audience, phone__in=OptOut.objects.values("phone")
            ).count(),
            "imports": audience.imports.select_related("created_by")[:20],
        },
    )
