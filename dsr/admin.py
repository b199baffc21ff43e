"""Accounts and organisations in the admin, for administrators (ACCESS.md)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from dsr.accounts.identity_providers import identity_remove, provider_named
from dsr.models import AccessEvent, LocalAuthority, Organisation, ProviderIdentity, User
from dsr.security.audit import Event, record_event


def _provider_label(link: ProviderIdentity) -> str:
    config = provider_named(link.provider)
    return config.label if config else link.provider


def _subject_shortened(subject: str) -> str:
    """Enough of the provider's subject to tell two identities apart, not the whole id."""
    return subject if len(subject) <= 12 else f"{subject[:4]}…{subject[-4:]}"


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j F Y \\a\\t H:i") if moment else "Never"


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
        ("NHS identities", {"fields": ["nhs_identities"]}),
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
    readonly_fields = ["last_login", "date_joined", "nhs_identities"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        """Administrators manage accounts but cannot raise anyone to superuser or staff, and
        cannot change their own roles: no one grants themselves clinical access (ACCESS.md)."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "is_staff"]
            if obj is not None and obj.pk == request.user.pk:
                fields += ["groups", "is_active"]
        return fields

    @admin.display(description="Linked NHS identities")
    def nhs_identities(self, user: User) -> str:
        """The account's links to provider identities (CIS2, Entra ID): each with when it was
        linked and last used, and a way to remove it."""
        active = ProviderIdentity.objects.filter(user_id=user.pk, removed_at__isnull=True)
        links = list(active.order_by("linked_at")) if user.pk else []
        if not links:
            return "None. This account has not signed in with an NHS identity."
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href="{}">Remove'
            '<span class="visually-hidden"> the {} link</span></a></td></tr>',
            (
                (
                    _provider_label(link),
                    _subject_shortened(link.subject),
                    _when(link.linked_at),
                    _when(link.last_used_at),
                    reverse("admin:dsr_user_identity_remove", args=[user.pk, link.pk]),
                    _provider_label(link),
                )
                for link in links
            ),
        )
        return format_html(
            "<table><thead><tr><th>Provider</th><th>Identity</th><th>Linked on</th>"
            "<th>Last used</th><th></th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def get_urls(self):
        remove = self.admin_site.admin_view(self.identity_remove_view)
        return [
            path(
                "<int:user_pk>/nhs-identities/<int:link_pk>/remove/",
                remove,
                name="dsr_user_identity_remove",
            ),
            *super().get_urls(),
        ]

    def identity_remove_view(
        self, request: HttpRequest, user_pk: int, link_pk: int
    ) -> HttpResponse:
        """Confirm, then remove, an account's link to a provider identity (POST only removes).
        The identity is unknown at its next sign-in; its sessions end."""
        if request.method not in ("GET", "POST"):
            return HttpResponse(status=405, headers={"Allow": "GET, POST"})
        user = get_object_or_404(User, pk=user_pk)
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        link = get_object_or_404(ProviderIdentity, pk=link_pk, user=user, removed_at__isnull=True)
        change_url = reverse("admin:dsr_user_change", args=[user.pk])
        if request.method == "POST":
            ended = identity_remove(link)
            record_event(
                Event.PROVIDER_IDENTITY_REMOVED,
                request,
                user_id=request.user.pk,
                account_id=user.pk,
                provider=link.provider,
                sessions_ended=ended,
            )
            messages.success(
                request,
                f"The {_provider_label(link)} link was removed from {user.full_name}'s account. "
                "Signing in with that identity will not work now.",
            )
            return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Remove this NHS identity link?",
            "opts": self.model._meta,
            "account": user,
            "link": link,
            "provider_label": _provider_label(link),
            "subject": _subject_shortened(link.subject),
            "linked_on": _when(link.linked_at),
            "last_used": _when(link.last_used_at),
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/dsr/user/identity_remove.html", context)


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
