from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from providers.models import Provider
from smshub.crypto import reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every provider's credentials with the first key of ENCRYPTION_KEYS. "
        "Put the new key first (NEW,OLD), run this, then drop the old key."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for provider in Provider.objects.select_for_update().exclude(secrets_encrypted=""):
                provider.secrets_encrypted = reencrypt(provider.secrets_encrypted)
                provider.save(update_fields=["secrets_encrypted"])
                count += 1
        self.stdout.write(f"Re-encrypted the credentials of {count} provider(s).")
