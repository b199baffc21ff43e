"""Accounts and organisations in the admin, for administrators (ACCESS.md)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from dsr.models import AccessEvent, LocalAuthority, Organisation, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    ordering = ["full_name"]
    list_display = ["full_name", "email", "organisation", "is_active", "last_login"]
    list_filter = ["is_active", "organisation", "groups"]
    search_fields = ["full_name", "email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "job_title", "phone", "organisation"]}),
        ("Access", {"fields": ["is_active", "groups", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "organisation", "password1", "password2"],
            },
        ),
    ]
    filter_horizontal = ["groups"]
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        """Administrators manage accounts but cannot raise anyone to superuser or staff, and
        cannot change their own roles: no one grants themselves clinical access (ACCESS.md)."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "is_staff"]
            if obj is not None and obj.pk == request.user.pk:
                fields += ["groups", "is_active"]
        return fields


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "ods_code"]
    list_filter = ["kind"]
    search_fields = ["name", "ods_code"]
    filter_horizontal = ["local_authorities"]


@admin.register(LocalAuthority)
class LocalAuthorityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "gss_code"]
    search_fields = ["name", "gss_code"]


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """The access log, read-only: who read which record, or downloaded which export, and when."""

    # Administrators hold no clinical role: they see a person's id, never their name.
    list_display = ["at", "user", "action", "person_ref", "path"]
    list_filter = ["action"]
    search_fields = ["user__email", "=request_id"]
    date_hierarchy = "at"
    list_select_related = ["user"]
    fields = readonly_fields = [
        "at",
        "user",
        "action",
        "person_ref",
        "path",
        "detail",
        "request_id",
    ]

    @admin.display(description="person id")
    def person_ref(self, event: AccessEvent) -> int | None:
        return event.person_id

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
