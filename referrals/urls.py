"""Referral routes: the public referral forms (no account needed) and the staff pages."""

from django.urls import path

from referrals.views import public, review, staff

app_name = "referrals"

urlpatterns = [
    # Public: anyone may refer, without an account (ACCESS.md "Anonymous").
    path("refer/", public.start, name="start"),
    path("refer/who/", public.who, name="who"),
    path("refer/printable/", public.printable, name="printable"),
    # The easy-read self-referral: before refer/<kind>/<step>/, which its step URLs would match.
    path("refer/easy-read/", public.easy_read_start, name="easy-read-start"),
    path("refer/easy-read/check/", public.easy_read_check, name="easy-read-check"),
    path(
        "refer/easy-read/confirmation/",
        public.easy_read_confirmation,
        name="easy-read-confirmation",
    ),
    path("refer/easy-read/<str:step>/", public.easy_read_step, name="easy-read-step"),
    path("refer/<str:kind>/<str:step>/", public.step, name="step"),
    path("refer/check/", public.check, name="check"),
    path("refer/confirmation/", public.confirmation, name="confirmation"),
    # Staff: the queue, a referral, and the moves of its review.
    path("referrals/", staff.queue, name="queue"),
    path("referrals/new/", staff.create, name="create"),
    path("referrals/mine/", staff.mine, name="mine"),
    path("referrals/<int:pk>/", staff.detail, name="detail"),
    path("referrals/<int:pk>/start-review/", review.start_review, name="start-review"),
    path("referrals/<int:pk>/more-information/", review.request_information, name="request-info"),
    path("referrals/<int:pk>/review/", review.record_review, name="review"),
    path("referrals/<int:pk>/assign/", review.assign, name="assign"),
    path("referrals/<int:pk>/area/", review.set_area, name="area"),
    path("referrals/<int:pk>/decision/", review.decide, name="decide"),
    path("referrals/<int:pk>/recipients/new/", review.recipient_add, name="recipient-add"),
    path(
        "referrals/<int:pk>/recipients/<int:contact_pk>/",
        review.recipient_change,
        name="recipient-change",
    ),
    path(
        "referrals/<int:pk>/attachments/<int:attachment_pk>/",
        staff.attachment,
        name="attachment",
    ),
]
