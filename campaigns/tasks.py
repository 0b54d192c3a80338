"""Celery tasks: thin wrappers that carry campaign ids and id ranges, never one message."""

from __future__ import annotations

from celery import shared_task

from . import dispatch, services, sweeper


@shared_task(name="campaigns.tasks.send_range")
def send_range(campaign_id: int, first_id: int, last_id: int) -> None:
    """Send the range's due messages; come back when its next retry falls due."""
    next_due = dispatch.send_range(campaign_id, first_id, last_id)
    if next_due is not None:
        send_range.apply_async((campaign_id, first_id, last_id), eta=next_due)
    else:
        services.finish_if_done(campaign_id)


@shared_task(name="campaigns.tasks.sweep")
def sweep() -> None:
    sweeper.sweep()


@shared_task(name="campaigns.tasks.prepare")
def prepare(campaign_id: int) -> None:
    services.prepare(campaign_id)


@shared_task(name="campaigns.tasks.launch_due")
def launch_due() -> None:
    services.launch_due()
