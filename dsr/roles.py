"""The roles of ACCESS.md, as Django groups, and the permissions each one holds.

A user may hold several roles; their access is the union. The groups and their permissions are
created by migration (dsr/migrations/0002_roles.py); `ROLE_PERMISSIONS` is the single source the
migration and the tests read.
"""

from django.db import models


class Role(models.TextChoices):
    REGISTER_STAFF = "register_staff", "Register staff"
    DSR_LEAD = "dsr_lead", "DSR lead"
    SENIOR_MANAGER_HEALTH = "senior_manager_health", "Senior manager (health)"
    SENIOR_MANAGER_LA = "senior_manager_la", "Senior manager (local authority)"
    EXECUTIVE_LEAD = "executive_lead", "Executive lead"
    PANEL_MEMBER = "panel_member", "Panel member"
    PROFESSIONAL_REFERRER = "professional_referrer", "Professional referrer"
    PLANNING_COMMISSIONER = "planning_commissioner", "Planning commissioner"
    ADMINISTRATOR = "administrator", "Administrator"


# Function-level permissions (codename, description). They live on the User model's Meta so
# that they have a content type; object scope comes from the user's organisation.
PERMISSIONS: dict[str, str] = {
    "view_register": "See people on the register in scope",
    "change_register": "Change people, ratings and consent on the register",
    "manage_referrals": "Review and decide referrals",
    "export_register": "Download filtered register exports",
    "manage_settings": "Change register settings: cadences, deadlines, escalation rules",
    "reassign_work": "Reassign referrals, reviews and actions",
    "view_escalation_queue": "See the red and amber escalation queue in scope",
    "act_on_escalations": "Acknowledge, act on and resolve escalations",
    "view_escalation_summary": "See the escalation summary by level and age",
    "sit_on_panels": "Read the packs of C(E)TRs sat on, and record findings",
    "submit_referral": "Submit referrals with an account",
    "view_own_referrals": "See the status and outcome of referrals submitted",
    "view_reports": "Download aggregate reports",
    "manage_accounts": "Invite, deactivate and review accounts and organisations",
    "view_access_log": "Read the access log",
    "import_register": "Import a register from a spreadsheet",
}

_STAFF = [
    "view_register",
    "change_register",
    "manage_referrals",
    "export_register",
    "view_escalation_queue",
    "view_reports",
]
_SENIOR = ["view_escalation_queue", "act_on_escalations"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.REGISTER_STAFF: _STAFF,
    Role.DSR_LEAD: [
        *_STAFF,
        "manage_settings",
        "reassign_work",
        "act_on_escalations",
        "import_register",
    ],
    Role.SENIOR_MANAGER_HEALTH: _SENIOR,
    Role.SENIOR_MANAGER_LA: _SENIOR,
    Role.EXECUTIVE_LEAD: ["view_escalation_summary", "act_on_escalations"],
    Role.PANEL_MEMBER: ["sit_on_panels"],
    Role.PROFESSIONAL_REFERRER: ["submit_referral", "view_own_referrals"],
    Role.PLANNING_COMMISSIONER: ["view_reports"],
    Role.ADMINISTRATOR: ["manage_accounts", "view_access_log"],
}

# Django admin model permissions the administrator also holds (users and organisations only:
# no clinical record unless they hold a clinical role too).
ADMINISTRATOR_MODEL_PERMISSIONS = [
    "view_user",
    "change_user",
    "add_user",
    "view_organisation",
    "change_organisation",
    "add_organisation",
    "view_localauthority",
    "change_localauthority",
    "add_localauthority",
    "view_accessevent",
]

# What each role may do, in the plain words of ACCESS.md; shown on the user's home page.
ROLE_SUMMARIES: dict[str, str] = {
    Role.REGISTER_STAFF: (
        "You can see and work on every person, referral, meeting, C(E)TR, action and escalation "
        "in your area, raise escalations and download filtered exports."
    ),
    Role.DSR_LEAD: (
        "As register staff, and you can also change the register settings, reassign work, "
        "handle level 1 escalations and import a register from a spreadsheet."
    ),
    Role.SENIOR_MANAGER_HEALTH: (
        "You can see people rated red or amber, and anyone with an open escalation, in your area, "
        "and acknowledge, act on and resolve escalations at your level."
    ),
    Role.SENIOR_MANAGER_LA: (
        "You can see people rated red or amber, and anyone with an open escalation, whose local "
        "authority is yours, and acknowledge, act on and resolve escalations at your level."
    ),
    Role.EXECUTIVE_LEAD: (
        "You can see the escalation summary and the people behind level 3 escalations, and "
        "acknowledge and resolve level 3 escalations."
    ),
    Role.PANEL_MEMBER: (
        "You can read the packs of the C(E)TRs you sit on, once consent evidence is attached, "
        "until 30 days after the report is sent, and record findings and recommendations."
    ),
    Role.PROFESSIONAL_REFERRER: (
        "You can submit referrals and see the status and outcome of the referrals you submitted."
    ),
    Role.PLANNING_COMMISSIONER: (
        "You can see and download aggregate reports. Small numbers are hidden and no person can "
        "be identified."
    ),
    Role.ADMINISTRATOR: (
        "You can invite, deactivate and review accounts and organisations, and read the access "
        "log. You cannot see clinical records unless you also hold a clinical role."
    ),
}


def sync_role_groups(apps) -> None:
    """Create or update one group per role with exactly the permissions above.

    Called from migrations (with their historical `apps`) so every database has the roles from
    its first migration on; a change to ROLE_PERMISSIONS ships with a migration that calls it
    again. Idempotent.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")

    def permission(model: str, codename: str, name: str):
        content_type, _ = ContentType.objects.get_or_create(app_label="dsr", model=model)
        perm, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        return perm

    function_perms = {code: permission("user", code, label) for code, label in PERMISSIONS.items()}
    admin_perms = []
    for codename in ADMINISTRATOR_MODEL_PERMISSIONS:
        action, model = codename.split("_", 1)
        admin_perms.append(permission(model, codename, f"Can {action} {model}"))

    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.label)
        perms = [function_perms[code] for code in ROLE_PERMISSIONS[role]]
        if role == Role.ADMINISTRATOR:
            perms += admin_perms
        group.permissions.set(perms)
