"""Creating users with a role (used by the management commands and the first run)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .roles import ADMIN


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def create_user(username: str, email: str, password: str, role: str, *, validate: bool = True):
    """Create a user in the role's group; admins are also staff.

    The password goes through Django's validators unless `validate` is off (the first admin's
    password from DJANGO_SUPERUSER_PASSWORD is taken as given, as `createsuperuser` does).
    """
    User = get_user_model()
    user = User(username=username, email=email, is_staff=(role == ADMIN))
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user
