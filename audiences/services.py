"""Audience imports: upload, choose the columns, run in the background (SPEC §4).

An import moves choosing columns → queued → running → done (or failed). The Celery task is
handed the import's id after the transaction that queued it commits, and only the worker that
moves it from queued to running works on it, so a redelivered task does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from pathlib import PurePath

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import imports
from .models import Audience, Contact, Import, ImportStatus
from .phones import is_supported_country

logger = logging.getLogger(__name__)

FILE_GONE = (
    "The uploaded file could not be found by the background worker, so nothing was imported "
    "from it. Upload it again. (When the web server and the workers run on different "
    "machines, MEDIA_ROOT must be storage they share.)"
)
STOPPED = (
    "The import stopped unexpectedly after {rows} rows. The contacts imported until then are "
    "kept; import the file again to add the rest (numbers already imported are merged, not "
    "duplicated)."
)


def start_import(uploaded_file: File, audience_or_new_name: Audience | str, user) -> Import:
    """Store the uploaded CSV and read its header; the import then waits for its columns to be
    chosen. A string creates a new audience of that name. Raises imports.HeaderError when the
    file has no usable header line (empty, not UTF-8, ...)."""
    uploaded_file.seek(0)
    header, delimiter = imports.read_header(uploaded_file)
    uploaded_file.seek(0)
    name = PurePath(uploaded_file.name or "contacts.csv").name[:255]
    with transaction.atomic():
        if isinstance(audience_or_new_name, Audience):
            audience = audience_or_new_name
        else:
            audience = Audience.objects.create(name=audience_or_new_name.strip(), created_by=user)
        job = Import(
            audience=audience,
            original_name=name,
            header=header,
            delimiter=delimiter,
            default_country=settings.DEFAULT_COUNTRY,
            size_bytes=uploaded_file.size or 0,
            created_by=user,
        )
        job.file.save(name, uploaded_file, save=False)
        try:
            job.save()
        except Exception:
            job.file.delete(save=False)  # a stored file must not outlive its import
            raise
    return job


def choose_columns(job: Import, phone_column: str, country: str) -> bool:
    """Queue the import with its phone column and default country; the worker is asked to run
    it once this commits. Returns False (and changes nothing) when it was queued already."""
    if phone_column not in job.header:
        raise ValueError(f"{phone_column!r} is not a column of this file")
    if not is_supported_country(country):
        raise ValueError(f"{country!r} is not a supported country")
    with transaction.atomic():
        queued = Import.objects.filter(pk=job.pk, status=ImportStatus.CHOOSING_COLUMNS).update(
            status=ImportStatus.QUEUED, phone_column=phone_column, default_country=country
        )
        if queued:
            transaction.on_commit(partial(enqueue, job.pk))
    if queued:
        job.status, job.phone_column, job.default_country = (
            ImportStatus.QUEUED,
            phone_column,
            country,
        )
    return bool(queued)


def enqueue(import_id: int) -> None:
    from .tasks import run_import  # tasks import this module

    run_import.delay(import_id)


def run_import(import_id: int) -> None:
    """Run a queued import to its end (done or failed). Does nothing unless it is queued: a
    task delivered twice, or after the import ended, must not import the file again."""
    now = timezone.now()
    claimed = Import.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=now, progress_at=now
    )
    if not claimed:
        logger.info("import %s is not queued; nothing to do", import_id)
        return
    job = Import.objects.get(pk=import_id)
    try:
        imports.import_file(job)
    except FileNotFoundError:
        logger.warning("import %s: file %s not found", import_id, job.file.name)
        _fail(job, FILE_GONE)
    except imports.HeaderError as error:
        _fail(job, str(error))
    except Exception:
        logger.exception("import %s failed", import_id)
        rows = Import.objects.filter(pk=import_id).values_list("rows_read", flat=True).first()
        _fail(job, STOPPED.format(rows=f"{rows or 0:,}"))
    else:
        _finish(job)


def _finish(job: Import) -> None:
    with transaction.atomic():
        Import.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE,
            processed_bytes=job.size_bytes,
            finished_at=timezone.now(),
        )
        recount(job.audience_id)
    # The rows are in the database now; the uploaded copy (personal data) is not kept.
    try:
        job.file.storage.delete(job.file.name)
    except OSError:
        logger.warning("import %s: could not delete %s", job.pk, job.file.name)


def _fail(job: Import, error: str) -> None:
    with transaction.atomic():
        Import.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, error=error, finished_at=timezone.now()
        )
        recount(job.audience_id)


def recount(audience_id: int) -> None:
    """Set the audience's contact count from its contacts (imports keep it up to date as they
    go; this makes it exact once they end)."""
    count = Contact.objects.filter(audience_id=audience_id).count()
    Audience.objects.filter(pk=audience_id).update(contact_count=count)


MAX_RESTARTS = 3


def restart_stalled() -> int:
    """Start again, from the top, the imports whose worker stopped (no progress for
    IMPORT_STALL_AFTER seconds): rows already imported merge into the same contacts, so
    nothing is duplicated; its rejected rows are listed afresh. After MAX_RESTARTS it fails
    with the reason instead. Run by Celery beat; returns how many were restarted."""
    quiet_since = timezone.now() - timedelta(seconds=settings.IMPORT_STALL_AFTER)
    stalled = Import.objects.filter(status=ImportStatus.RUNNING, progress_at__lt=quiet_since)
    restarted = 0
    for job in stalled:
        if job.restarts >= MAX_RESTARTS:
            _fail(job, STOPPED.format(rows=f"{job.rows_read:,}"))
            continue
        with transaction.atomic():
            job.rejected_rows.all().delete()
            requeued = Import.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
                status=ImportStatus.QUEUED,
                restarts=F("restarts") + 1,
                processed_bytes=0,
                rows_read=0,
                added=0,
                merged=0,
                rejected=0,
            )
            if requeued:
                transaction.on_commit(partial(enqueue, job.pk))
                restarted += 1
    return restarted
