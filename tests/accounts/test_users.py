"""Users, roles and logging in (SPEC §0, §8, §11)."""

from __future__ import annotations

import io
import os
import re
import stat

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.roles import ADMIN, MARKETER, role_of, sync_roles
from accounts.users import create_user

STRONG = "violet-lantern-orbit-93"
User = get_user_model()


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"^Password: (\S+)", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def groups_of(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def perms_of(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


@pytest.fixture
def no_superuser_env(monkeypatch):
    for name in ("USERNAME", "PASSWORD", "EMAIL"):
        monkeypatch.delenv(f"DJANGO_SUPERUSER_{name}", raising=False)


# --- create_user --------------------------------------------------------------------------


def test_it_creates_a_marketer_with_a_generated_password(db):
    output = run("create_user", "bob", "--role", "marketer")

    user = User.objects.get(username="bob")
    password = printed_password(output)
    assert output == f"Created marketer 'bob'.\nPassword: {password}\n"
    assert len(password) >= 12
    assert user.check_password(password)
    assert groups_of(user) == [MARKETER]
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert role_of(user) == MARKETER
    assert not user.has_perm("providers.manage_providers")
    assert user.has_perm("providers.view_provider_stats")


def test_it_generates_a_different_password_each_time(db):
    first = printed_password(run("create_user", "bob", "--role", "marketer"))
    second = printed_password(run("create_user", "eve", "--role", "marketer"))

    assert first != second


def test_it_creates_an_admin_with_the_given_password_and_email(db):
    output = run(
        "create_user", "ada", "--role", "admin", "--password", STRONG, "--email", "ada@example.com"
    )

    user = User.objects.get(username="ada")
    assert output == "Created admin 'ada'.\n"
    assert user.check_password(STRONG)
    assert user.email == "ada@example.com"
    assert groups_of(user) == [ADMIN]
    assert user.is_staff is True
    assert role_of(user) == ADMIN
    assert user.has_perm("providers.manage_providers")
    assert user.has_perm("audit.view_auditentry")


def test_it_refuses_a_duplicate_username(db):
    run("create_user", "bob", "--role", "marketer")
    before = User.objects.get(username="bob").password

    with pytest.raises(CommandError) as excinfo:
        run("create_user", "bob", "--role", "admin", "--password", STRONG)

    assert str(excinfo.value) == "A user named 'bob' already exists."
    assert User.objects.filter(username="bob").count() == 1
    bob = User.objects.get(username="bob")
    assert bob.password == before
    assert groups_of(bob) == [MARKETER]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("123", "This password is too short. It must contain at least 8 characters."),
        ("12345678", "This password is entirely numeric."),
        ("password", "This password is too common."),
        ("carol-the-user", "The password is too similar to the username."),
    ],
)
def test_it_refuses_a_weak_password_and_creates_nothing(db, password, reason):
    with pytest.raises(CommandError) as excinfo:
        run("create_user", "carol-the-user", "--role", "marketer", "--password", password)

    assert str(excinfo.value).startswith("Password rejected: ")
    assert reason in str(excinfo.value)
    assert not User.objects.filter(username="carol-the-user").exists()


def test_it_refuses_an_unknown_role(db):
    with pytest.raises(CommandError, match="invalid choice: 'boss'"):
        run("create_user", "bob", "--role", "boss")

    assert not User.objects.exists()


def test_it_requires_a_role(db):
    with pytest.raises(CommandError, match="--role"):
        run("create_user", "bob")

    assert not User.objects.exists()


# --- ensure_admin -------------------------------------------------------------------------


def test_it_creates_the_first_admin_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "env-password-1")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")

    output = run("ensure_admin")

    user = User.objects.get()
    assert output == "Login: boss\nPassword: the one in DJANGO_SUPERUSER_PASSWORD\n"
    assert user.username == "boss"
    assert user.email == "boss@example.com"
    assert user.check_password("env-password-1")
    assert (user.is_staff, user.is_superuser) == (True, True)
    assert groups_of(user) == [ADMIN]
    assert "env-password-1" not in output


def test_it_takes_the_environment_password_as_given(db, monkeypatch):
    # As Django's createsuperuser does: whoever sets the environment chose it.
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "boss")

    run("ensure_admin")

    assert User.objects.get(username="boss").check_password("boss")


def test_it_generates_and_prints_the_first_admins_password(db, no_superuser_env):
    output = run("ensure_admin")

    user = User.objects.get()
    password = printed_password(output)
    assert output == f"Login: admin\nPassword: {password} (generated)\n"
    assert user.username == "admin"
    assert user.email == ""
    assert user.check_password(password)
    assert user.is_superuser is True
    assert groups_of(user) == [ADMIN]


def test_it_generates_a_password_for_an_environment_username(db, monkeypatch, no_superuser_env):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")

    output = run("ensure_admin")

    assert output.startswith("Login: boss\nPassword: ")
    assert User.objects.get().check_password(printed_password(output))


def test_it_creates_nothing_the_second_time_and_reprints_the_login(db, no_superuser_env):
    run("ensure_admin")
    password_hash = User.objects.get().password

    output = run("ensure_admin")

    assert output == "Login: admin\n"
    assert User.objects.count() == 1
    assert User.objects.get().password == password_hash


def test_it_reprints_a_generated_password_kept_in_a_private_file(db, no_superuser_env, tmp_path):
    password_file = tmp_path / "admin-password"

    first = run("ensure_admin", password_file=str(password_file))
    second = run("ensure_admin", password_file=str(password_file))

    password = printed_password(first)
    assert password_file.read_text() == password + "\n"
    assert stat.S_IMODE(os.stat(password_file).st_mode) == 0o600
    assert second == f"Login: admin\nPassword: {password} (generated on first run)\n"
    assert User.objects.count() == 1


def test_it_writes_no_password_file_for_an_environment_password(db, monkeypatch, tmp_path):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "env-password-1")
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    password_file = tmp_path / "admin-password"

    run("ensure_admin", password_file=str(password_file))

    assert not password_file.exists()


def test_it_refuses_to_take_over_a_non_admin_with_the_admin_username(db, monkeypatch):
    create_user("boss", "", STRONG, MARKETER)
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")

    with pytest.raises(CommandError, match="exists but is not an admin"):
        run("ensure_admin")

    assert groups_of(User.objects.get(username="boss")) == [MARKETER]


def test_it_creates_no_admin_when_one_exists(db, monkeypatch):
    create_user("ada", "", STRONG, ADMIN)
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "env-password-1")

    output = run("ensure_admin")

    assert output == "Login: ada\n"
    assert list(User.objects.values_list("username", flat=True)) == ["ada"]


def test_it_creates_the_first_admin_beside_marketers(db, no_superuser_env):
    create_user("mark", "", STRONG, MARKETER)

    output = run("ensure_admin")

    assert output.startswith("Login: admin\n")
    assert groups_of(User.objects.get(username="admin")) == [ADMIN]


# --- roles --------------------------------------------------------------------------------


def test_it_has_the_role_groups_with_their_permissions_after_migrate(db):
    assert sorted(Group.objects.values_list("name", flat=True)) == [ADMIN, MARKETER]
    assert perms_of(ADMIN) == {
        "providers.manage_providers",
        "providers.view_provider_stats",
        "audiences.manage_audiences",
        "campaigns.manage_campaigns",
        "audit.view_auditentry",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
    }
    assert perms_of(MARKETER) == {
        "audiences.manage_audiences",
        "campaigns.manage_campaigns",
        "providers.view_provider_stats",
    }


def test_it_puts_the_permissions_of_a_role_back_when_synchronised(db):
    marketer = Group.objects.get(name=MARKETER)
    admin = Group.objects.get(name=ADMIN)
    admin.permissions.clear()
    extra = admin.permissions.model.objects.get(codename="delete_user")
    marketer.permissions.add(extra)

    sync_roles()
    sync_roles()

    assert "providers.manage_providers" in perms_of(ADMIN)
    assert perms_of(MARKETER) == {
        "audiences.manage_audiences",
        "campaigns.manage_campaigns",
        "providers.view_provider_stats",
    }
    assert Group.objects.count() == 2


def test_it_knows_the_role_of_each_user(db, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password=STRONG)
    root = django_user_model.objects.create_superuser("root", password=STRONG)

    assert role_of(create_user("ada", "", STRONG, ADMIN)) == ADMIN
    assert role_of(create_user("mark", "", STRONG, MARKETER)) == MARKETER
    assert role_of(nobody) is None
    assert role_of(root) == ADMIN


# --- logging in and out -------------------------------------------------------------------


@pytest.fixture
def ada(db):
    return create_user("ada", "ada@example.com", STRONG, ADMIN)


def test_it_shows_the_login_page_to_anyone(client, db):
    response = client.get("/accounts/login/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in page
    assert 'name="password"' in page


def test_it_logs_in_with_username_and_password(client, ada):
    response = client.post("/accounts/login/", {"username": "ada", "password": STRONG})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == ada.pk
    assert client.get("/").status_code == 200


def test_it_returns_to_the_page_asked_for_after_login(client, ada):
    next_url = "/settings/channels/sms/providers/"
    response = client.get(next_url)
    assert response["Location"] == f"/accounts/login/?next={next_url}"

    response = client.post(
        "/accounts/login/", {"username": "ada", "password": STRONG, "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == next_url
    assert client.get(next_url).status_code == 200


def test_it_does_not_follow_a_next_url_to_another_site(client, ada):
    response = client.post(
        "/accounts/login/",
        {"username": "ada", "password": STRONG, "next": "https://evil.example.com/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("username", "password"), [("ada", "wrong-password"), ("ADA", STRONG), ("nobody", STRONG)]
)
def test_it_refuses_a_wrong_login(client, ada, username, password):
    response = client.post("/accounts/login/", {"username": username, "password": password})

    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_refuses_an_inactive_user(client, ada):
    ada.is_active = False
    ada.save()

    response = client.post("/accounts/login/", {"username": "ada", "password": STRONG})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_it_sends_a_logged_in_user_away_from_the_login_page(client, ada):
    client.force_login(ada)

    response = client.get("/accounts/login/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_requires_login_for_the_overview(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_it_logs_out_on_post_only(client, ada):
    client.force_login(ada)

    refused = client.get("/accounts/logout/")
    assert refused.status_code == 405
    assert "_auth_user_id" in client.session

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_it_checks_the_csrf_token_on_login(ada):
    client = Client(enforce_csrf_checks=True)

    refused = client.post("/accounts/login/", {"username": "ada", "password": STRONG})
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/accounts/login/", {"username": "ada", "password": STRONG, "csrfmiddlewaretoken": token}
    )

    assert refused.status_code == 403
    assert accepted.status_code == 302
