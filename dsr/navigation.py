"""The header navigation: which links a user sees, from the roles they hold.

Each app adds its entries here as it gains pages; an entry is shown when the user holds any of
its permissions. Only a signed-in user with a verified second factor sees navigation.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permissions: tuple[str, ...] = ()
    prefix_match: bool = False

    def visible_to(self, user) -> bool:
        return not self.permissions or any(user.has_perm(p) for p in self.permissions)


NAV_ITEMS: list[NavItem] = [
    NavItem("Home", "dsr:home"),
    NavItem("Register", "dsr:register-dashboard", ("dsr.view_register",)),
    NavItem("People", "dsr:register-list", ("dsr.view_register",), prefix_match=True),
    NavItem("Referrals", "referrals:queue", ("dsr.manage_referrals",), prefix_match=True),
    NavItem("Meetings", "reviews:meeting-list", ("dsr.view_register",), prefix_match=True),
    NavItem("C(E)TRs", "reviews:cetr-list", ("dsr.view_register",), prefix_match=True),
    NavItem("C(E)TR requests", "reviews:request-list", ("dsr.manage_referrals",), True),
    NavItem("Escalations", "escalation:queue", ("dsr.view_escalation_queue",), True),
    NavItem("Escalation summary", "escalation:summary", ("dsr.view_escalation_summary",)),
    NavItem("Reports", "reports:snapshot", ("dsr.view_reports",), True),
    NavItem("My actions", "reviews:my-actions", ("dsr.view_register", "dsr.view_escalation_queue")),
    NavItem("My panels", "reviews:my-panels", ("dsr.sit_on_panels",)),
    NavItem("My referrals", "referrals:mine", ("dsr.view_own_referrals",)),
    NavItem("Outbox", "dsr:outbox", ("dsr.manage_referrals",)),
    NavItem("Service status", "dsr:service-status", ("dsr.view_register", "dsr.manage_accounts")),
    NavItem("Invitations", "dsr:invitation-list", ("dsr.manage_accounts",), prefix_match=True),
    NavItem("Access review", "dsr:account-review", ("dsr.manage_accounts",)),
    NavItem("Manage accounts", "admin:index", ("dsr.manage_accounts",)),
    NavItem(
        "Records retention", "dsr:retention-runs", ("dsr.manage_accounts", "dsr.manage_settings")
    ),
]


def navigation_for(request: HttpRequest) -> list[dict]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return []
    path = request.path
    items = []
    for item in NAV_ITEMS:
        if item.visible_to(user):
            url = reverse(item.url_name)
            current = path == url or (url != "/" and path.startswith(url) and item.prefix_match)
            items.append({"label": item.label, "url": url, "current": current})
    return items
