"""Every route of the service. Each one is closed unless its view says otherwise
(dsr.security.access), and each one is listed in the route matrix test
(tests/test_route_matrix.py)."""

from django.contrib import admin
from django.urls import include, path

from dsr.views import (
    account_lifecycle,
    identity,
    imports,
    outbox,
    people,
    records,
    register,
    team,
)
from dsr.views import accounts as account_views
from dsr.views import pages as views

page_patterns = (
    [
        path("", views.start, name="start"),
        path("privacy/", views.privacy, name="privacy"),
        path("accessibility/", views.accessibility, name="accessibility"),
        path("cookies/", views.cookies, name="cookies"),
        path("deciding-about-the-register/", views.deciding, name="deciding"),
        path(
            "deciding-about-the-register/easy-read/",
            views.deciding_easy_read,
            name="deciding-easy-read",
        ),
        path("easy-read/what-happens-next/", views.next_easy_read, name="next-easy-read"),
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
        # Signing in through an NHS identity provider (CIS2, Entra ID), the provider's
        # back-channel logout, and the service's public keys for private_key_jwt.
        path("sign-in/nhs/<slug:provider>/", identity.provider_start, name="provider-start"),
        path(
            "sign-in/nhs/<slug:provider>/return/",
            identity.provider_return,
            name="provider-return",
        ),
        path(
            "oidc/<slug:provider>/back-channel-logout/",
            identity.back_channel_logout,
            name="back-channel-logout",
        ),
        path("oidc/jwks.json", identity.jwks, name="jwks"),
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
        # An invitation's link, and "stay signed in" from the idle-timeout warning.
        path(
            "invitation/<str:token>/",
            account_lifecycle.invitation_respond,
            name="invitation-accept",
        ),
        path("session/extend/", account_lifecycle.session_extend, name="session-extend"),
    ],
    "accounts",
)

dsr_patterns = (
    [
        path("home/", views.home, name="home"),
        # The register: dashboard, list, search (POST only) and export.
        path("register/", register.dashboard, name="register-dashboard"),
        path("register/people/", register.register_list, name="register-list"),
        path("register/search/", register.search, name="register-search"),
        path("register/export.csv", register.export, name="register-export"),
        # Accounts, for administrators: invitations and the access review.
        path("access/invitations/", account_lifecycle.invitation_list, name="invitation-list"),
        path("access/invitations/new/", account_lifecycle.invitation_new, name="invitation-create"),
        path(
            "access/invitations/<int:pk>/send-again/",
            account_lifecycle.invitation_send_again,
            name="invitation-resend",
        ),
        path(
            "access/invitations/<int:pk>/withdraw/",
            account_lifecycle.invitation_withdraw,
            name="invitation-revoke",
        ),
        path("access/review/", account_lifecycle.account_review, name="account-review"),
        path(
            "access/review/accounts.csv",
            account_lifecycle.account_review_csv,
            name="account-review-csv",
        ),
        # The outbox: letters to post, failed and waiting messages.
        path("outbox/", outbox.outbox, name="outbox"),
        path("outbox/<int:pk>/send-again/", outbox.resend, name="outbox-resend"),
        path("outbox/<int:pk>/posted/", outbox.mark_posted, name="outbox-posted"),
        path("outbox/<int:pk>/dealt-with/", outbox.dealt_with, name="outbox-dealt-with"),
        path("outbox/<int:pk>/letter.pdf", outbox.letter, name="outbox-letter"),
        # GOV.UK Notify's delivery receipts (public, but only with Notify's bearer token).
        path("notify/receipts/", outbox.notify_receipts, name="notify-receipts"),
        # Whether the worker and the scheduler that send messages are running.
        path("service-status/", views.service_status, name="service-status"),
        # People.
        path("people/new/", people.person_create, name="person-create"),
        path("people/<int:pk>/", people.person_detail, name="person-detail"),
        path("people/<int:pk>/history/", people.person_history, name="person-history"),
        path("people/<int:pk>/placements/", people.person_placements, name="person-placements"),
        path("people/<int:pk>/details/", people.person_edit, name="person-edit"),
        path("people/<int:pk>/add-to-register/", people.register_add, name="person-register"),
        path("people/<int:pk>/rating/", people.rating_change, name="person-rating"),
        path("people/<int:pk>/consent/", people.consent_record, name="person-consent"),
        path(
            "people/<int:pk>/consent/withdraw/",
            people.consent_withdraw,
            name="person-consent-withdraw",
        ),
        path("people/<int:pk>/admission/", people.admission_record, name="person-admission"),
        path("people/<int:pk>/placement/", people.placement_record, name="person-placement"),
        path(
            "people/<int:pk>/placements/<int:placement_pk>/end/",
            people.placement_end,
            name="person-placement-end",
        ),
        path("people/<int:pk>/discharge/", people.admission_discharge, name="person-discharge"),
        path("people/<int:pk>/root-cause-analysis/", people.admission_rca, name="person-rca"),
        path("people/<int:pk>/contacts/new/", people.contact_add, name="person-contact-add"),
        path(
            "people/<int:pk>/contacts/<int:contact_pk>/",
            people.contact_edit,
            name="person-contact-edit",
        ),
        path(
            "people/<int:pk>/contacts/<int:contact_pk>/remove/",
            people.contact_remove,
            name="person-contact-remove",
        ),
        path("people/<int:pk>/close/", people.register_close, name="person-close"),
        path(
            "people/<int:pk>/cetr-exception/",
            people.cetr_exception,
            name="person-cetr-exception",
        ),
        path("people/<int:pk>/needs/", people.needs_record, name="person-needs"),
        path(
            "people/<int:pk>/key-worker-referral/",
            people.keyworker_referral,
            name="person-keyworker-referral",
        ),
        # Records: everything held about a person (subject access), and the retention runs.
        path("people/<int:pk>/export/", records.person_export, name="person-export"),
        path("records/retention/", records.retention_runs, name="retention-runs"),
        # The DSR lead's settings, and what people are told: the DSR team's contact details.
        path("settings/", team.settings_page, name="settings"),
        path("settings/contact/", team.team_contact, name="team-contact"),
        # Importing a register from a spreadsheet (the DSR lead).
        path("imports/", imports.import_list, name="import-list"),
        path("imports/new/", imports.import_upload, name="import-upload"),
        path("imports/<int:pk>/", imports.import_detail, name="import-detail"),
        path("imports/<int:pk>/columns/", imports.import_columns, name="import-columns"),
        path("imports/<int:pk>/values/", imports.import_values, name="import-values"),
        path("imports/<int:pk>/check/", imports.import_check, name="import-check"),
        path("imports/<int:pk>/checked.xlsx", imports.import_report, name="import-report"),
        path("imports/<int:pk>/start/", imports.import_start, name="import-start"),
        path("imports/<int:pk>/progress/", imports.import_progress, name="import-progress"),
        path("imports/<int:pk>/undo/", imports.import_undo, name="import-undo"),
    ],
    "dsr",
)

urlpatterns = [
    path("", include(page_patterns)),
    path("accounts/", include(account_patterns)),
    path("", include(dsr_patterns)),
    path("", include("referrals.urls")),
    path("", include("reviews.urls")),
    path("", include("escalation.urls")),
    path("", include("reports.urls")),
    path("health/", views.health, name="health"),
    path("health/background/", views.health_background, name="health-background"),
    path("admin/", admin.site.urls),
]

handler403 = "dsr.security.errors.forbidden"
handler404 = "dsr.security.errors.not_found"
handler500 = "dsr.security.errors.server_error"
