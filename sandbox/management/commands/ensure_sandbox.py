from __future__ import annotations

from django.core.management.base import BaseCommand

from sandbox import native, services


class Command(BaseCommand):
    help = (
        "First run: create the simulated SMS provider “Sandbox (simulated)”, served by the hub "
        "itself. Later runs only keep its endpoint and key in step with SITE_URL and "
        "SECRET_KEY. Prints one line saying what it did."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--recreate",
            action="store_true",
            help="create it again even though an admin deleted it",
        )
        parser.add_argument(
            "--provider-format",
            action="store_true",
            help="also a second one, “Sandbox (provider's own reports)”, whose reports come in "
            "a provider's own format (Infobip's) and are read by its Delivery reports mapping",
        )

    def handle(self, *args, recreate=False, provider_format=False, **options):
        ensured = services.ensure_provider(recreate=recreate)
        self.stdout.write(ensured.summary)
        if provider_format:
            self.stdout.write(
                services.ensure_provider(recreate=recreate, style=native.STYLE).summary
            )
        blocked = services.blocked_reason()
        if ensured.provider is not None and blocked:
            self.stdout.write(
                f"Warning: BLOCK_PRIVATE_ADDRESSES is on and {blocked}: the hub will not call "
                "its own sandbox endpoint nor post the sandbox's callbacks to itself. Turn it "
                "off or serve the hub on a public SITE_URL to use the sandbox."
            )
