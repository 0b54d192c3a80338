"""The two roles of SMS Hub (SPEC §0) as Django groups, and the permissions each holds.

Groups are synchronised after every `migrate`, so a new permission added to a role here
reaches existing installations without a hand-written data migration.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

ADMIN = "Admin"
MARKETER = "Marketer"
ROLES = (ADMIN, MARKETER)

MANAGE_PROVIDERS = "providers.manage_providers"
VIEW_PROVIDER_STATS = "providers.view_provider_stats"
VIEW_AUDIT_LOG = "audit.view_auditentry"
MANAGE_AUDIENCES = "audiences.manage_audiences"
MANAGE_CAMPAIGNS = "campaigns.manage_campaigns"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ADMIN: (
        MANAGE_PROVIDERS,
        MANAGE_AUDIENCES,
        MANAGE_CAMPAIGNS,
        VIEW_PROVIDER_STATS,
        VIEW_AUDIT_LOG,
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
    ),
    MARKETER: (MANAGE_AUDIENCES, MANAGE_CAMPAIGNS, VIEW_PROVIDER_STATS),
}


def sync_roles() -> None:
    """Create the role groups and give each exactly its permissions."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = [_permission(name) for name in perm_names]
        group.permissions.set([p for p in perms if p is not None])


def _permission(dotted: str) -> Permission | None:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()


def role_of(user) -> str | None:
    names = {g.name for g in user.groups.all()}
    for role in ROLES:
        if role in names:
            return role
    return ADMIN if user.is_superuser else None
