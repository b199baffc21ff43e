"""Every route of the service. Each one is closed unless its view says otherwise (dsr.access),
and each one is listed in the route matrix test (tests/test_route_matrix.py)."""

from django.contrib import admin
from django.urls import include, path

from dsr import account_views, views

page_patterns = (
    [
        path("", views.start, name="start"),
        path("privacy/", views.privacy, name="privacy"),
        path("accessibility/", views.accessibility, name="accessibility"),
        path("cookies/", views.cookies, name="cookies"),
    ],
    "pages",
)

account_patterns = (
    [
        path("sign-in/", account_views.sign_in, name="sign-in"),
        path("sign-in/security-code/", account_views.verify, name="verify"),
        path("sign-in/set-up-authenticator/", account_views.setup, name="setup"),
        path(
            "sign-in/set-up-authenticator/qr-code.svg",
            account_views.setup_qr,
            name="setup-qr",
        ),
        path("sign-out/", account_views.sign_out, name="sign-out"),
        path("password-reset/", account_views.password_reset, name="password-reset"),
        path("password-reset/sent/", account_views.password_reset_sent, name="password-reset-sent"),
        path(
            "password-reset/<uidb64>/<token>/",
            account_views.password_reset_confirm,
            name="password-reset-confirm",
        ),
        path(
            "password-reset/complete/",
            account_views.password_reset_complete,
            name="password-reset-complete",
        ),
    ],
    "accounts",
)

dsr_patterns = (
    [
        path("home/", views.home, name="home"),
    ],
    "dsr",
)

urlpatterns = [
    path("", include(page_patterns)),
    path("accounts/", include(account_patterns)),
    path("", include(dsr_patterns)),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]

handler403 = "dsr.errors.forbidden"
handler404 = "dsr.errors.not_found"
handler500 = "dsr.errors.server_error"
