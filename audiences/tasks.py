"""Celery tasks: thin wrappers that carry an import's id."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="audiences.tasks.run_import")
def run_import(import_id: int) -> None:
    """Import a queued CSV; a task delivered again (or after the import ended) does nothing."""
    services.run_import(import_id)


@shared_task(name="audiences.tasks.restart_stalled")
def restart_stalled() -> None:
    services.restart_stalled()
