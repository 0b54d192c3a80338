from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ADMIN
from accounts.users import create_user, generate_password


class Command(BaseCommand):
    help = (
        "First run: create the first admin from DJANGO_SUPERUSER_USERNAME / _PASSWORD / _EMAIL, "
        "or with a generated password that is printed. Does nothing when an admin exists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password-file",
            help="where to keep a generated password (mode 0600) so later runs can show it",
        )

    def handle(self, *args, password_file=None, **options):
        User = get_user_model()
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
        existing = User.objects.filter(groups__name=ADMIN).order_by("pk").first()
        if existing:
            self.stdout.write(f"Login: {existing.username}")
            if password_file and os.path.exists(password_file):
                with open(password_file) as fh:
                    self.stdout.write(f"Password: {fh.read().strip()} (generated on first run)")
            return
        if User.objects.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists but is not an admin. Set "
                "DJANGO_SUPERUSER_USERNAME to another name, or give that user the Admin role."
            )
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        generated = not password
        password = password or generate_password()
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        user = create_user(username, email, password, ADMIN, validate=generated)
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
        self.stdout.write(f"Login: {username}")
        if generated:
            self.stdout.write(f"Password: {password} (generated)")
            if password_file:
                fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(password + "\n")
        else:
            self.stdout.write("Password: the one in DJANGO_SUPERUSER_PASSWORD")
