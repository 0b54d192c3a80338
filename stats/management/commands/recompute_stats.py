"""Rebuild the per-day stats rollups from the messages and events."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from stats import rebuild


class Command(BaseCommand):
    help = "Rebuild the per-day stats rollups from messages and events (SPEC §7)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare: exit 1 when the stored rollups differ from a rebuild.",
        )

    def handle(self, *args, check: bool = False, **options):
        with transaction.atomic():
            if check:
                if rebuild.snapshot() != rebuild.recompute():
                    self.stderr.write("The rollups differ from the messages and events.")
                    raise SystemExit(1)
                self.stdout.write("The rollups match the messages and events.")
                return
            rebuild.rebuild()
        self.stdout.write("Rollups rebuilt from the messages and events.")
