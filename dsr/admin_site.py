"""The Django admin, behind the same sign-in and second factor as every other page.

AccessRuleMiddleware already sends anyone without a verified second factor to sign in. This
site adds: a signed-in user who may not use the admin gets 403 rather than the admin's own
login form, and the admin never offers a password-only login of its own.
"""

from functools import update_wrapper

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url


class DsrAdminSite(admin.AdminSite):
    site_header = "Dynamic support register: accounts and organisations"
    site_title = "DSR administration"
    index_title = "Administration"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and request.user.is_verified()

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    def login(self, request, extra_context=None):
        if self.has_permission(request):
            return redirect("admin:index")
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
