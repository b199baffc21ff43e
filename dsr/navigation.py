"""The header navigation: which links a user sees, from the roles they hold.

The register lists its own entries here and each app adds its own (dsr.contributions); an
entry is shown when the user holds any of its permissions. Only a signed-in user with a verified
second factor sees navigation.
"""

from dataclasses import dataclass

from django.http import HttpRequest

from dsr.rendering import reverse_once


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permissions: tuple[str, ...] = ()
    prefix_match: bool = False
    # Where it stands in the header, lowest first (the register's own links and the apps' are
    # interleaved by this number).
    order: int = 0

    def visible_to(self, user) -> bool:
        return not self.permissions or any(user.has_perm(p) for p in self.permissions)


# The register's own links; the apps add theirs through dsr.contributions.
NAV_ITEMS: list[NavItem] = [
    NavItem("Home", "dsr:home", order=10),
    NavItem("Register", "dsr:register-dashboard", ("dsr.view_register",), order=20),
    NavItem("People", "dsr:register-list", ("dsr.view_register",), True, order=30),
    NavItem("Outbox", "dsr:outbox", ("dsr.manage_referrals",), order=140),
    NavItem(
        "Service status",
        "dsr:service-status",
        ("dsr.view_register", "dsr.manage_accounts"),
        order=150,
    ),
    NavItem("Invitations", "dsr:invitation-list", ("dsr.manage_accounts",), True, order=160),
    NavItem("Access review", "dsr:account-review", ("dsr.manage_accounts",), order=170),
    NavItem("Manage accounts", "admin:index", ("dsr.manage_accounts",), order=180),
    NavItem(
        "Records retention",
        "dsr:retention-runs",
        ("dsr.manage_accounts", "dsr.manage_settings"),
        order=190,
    ),
    NavItem("Settings", "dsr:settings", ("dsr.manage_settings",), order=195),
    NavItem("Import", "dsr:import-list", ("dsr.import_register",), True, order=197),
]


def register_items(items: tuple[NavItem, ...] | list[NavItem]) -> None:
    """Add an app's links to the header, in `order`."""
    for item in items:
        if item not in NAV_ITEMS:
            NAV_ITEMS.append(item)
    NAV_ITEMS.sort(key=lambda item: item.order)


def navigation_for(request: HttpRequest) -> list[dict]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return []
    path = request.path
    items = []
    for item in NAV_ITEMS:
        if item.visible_to(user):
            url = reverse_once(item.url_name)
            current = path == url or (url != "/" and path.startswith(url) and item.prefix_match)
            items.append({"label": item.label, "url": url, "current": current})
    return items
