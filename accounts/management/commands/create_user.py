from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLES
from accounts.users import create_user, generate_password


class Command(BaseCommand):
    help = (
        "Create a user with a role (Admin or Marketer). Prints a generated password if none given."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.lower() for r in ROLES])
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="defaults to a generated one, printed once")

    def handle(self, *args, username, role, email, password, **options):
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        role_name = next(r for r in ROLES if r.lower() == role)
        generated = password is None
        password = password or generate_password()
        try:
            create_user(username, email, password, role_name)
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
        self.stdout.write(f"Created {role_name.lower()} {username!r}.")
        if generated:
            self.stdout.write(f"Password: {password}")
