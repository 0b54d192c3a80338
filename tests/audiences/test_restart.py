"""An import whose worker stopped is started again by the sweeper (SPEC §9: nothing lost)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from audiences import services
from audiences.models import Import, ImportStatus, RejectedRow

from .helpers import contacts, rejected, start

CSV = "phone,name\n+14155550101,Ada\n12,Bad\n+14155550102,Grace\n"


def stall(job: Import, minutes: int = 11, rows: int = 1) -> None:
    """The state a killed worker leaves: running, part done, quiet for a while."""
    Import.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING,
        progress_at=timezone.now() - timedelta(minutes=minutes),
        rows_read=rows,
        added=rows,
    )
    RejectedRow.objects.create(source=job, line=3, reason="half-listed", raw="12,Bad")


def test_it_restarts_a_stalled_import_from_the_top(
    db, enqueued, django_capture_on_commit_callbacks
):
    job = start(CSV)
    services.choose_columns(job, "phone", "US")
    enqueued.clear()
    stall(job)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.restart_stalled() == 1

    assert enqueued == [(job.pk,)]
    services.run_import(job.pk)
    job.refresh_from_db()
    assert (job.status, job.restarts, job.rows_read, job.rejected) == (ImportStatus.DONE, 1, 3, 1)
    assert rejected(job) == [(3, rejected(job)[0][1])]  # listed once, not twice
    assert set(contacts(job.audience)) == {"+14155550101", "+14155550102"}


def test_it_leaves_running_imports_that_make_progress(db, enqueued):
    job = start(CSV)
    services.choose_columns(job, "phone", "US")
    enqueued.clear()
    stall(job, minutes=1)

    assert services.restart_stalled() == 0
    assert enqueued == []


def test_it_gives_up_after_three_restarts(db, enqueued):
    job = start(CSV)
    services.choose_columns(job, "phone", "US")
    stall(job)
    Import.objects.filter(pk=job.pk).update(restarts=services.MAX_RESTARTS)

    assert services.restart_stalled() == 0

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.error
