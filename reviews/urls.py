"""Routes of multi-agency reviews, actions, C(E)TRs, C(E)TR requests and oversight visits. Every
one is listed in the route matrix (tests/test_route_matrix.py)."""

from django.urls import path

from reviews.views import actions, cetrs, links, meetings, requests

app_name = "reviews"

urlpatterns = [
    # Meetings: the register team.
    path("meetings/", meetings.meeting_list, name="meeting-list"),
    path("meetings/new/", meetings.meeting_create, name="meeting-create"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting-detail"),
    path("meetings/<int:pk>/details/", meetings.meeting_edit, name="meeting-edit"),
    path("meetings/<int:pk>/refresh-agenda/", meetings.agenda_refresh, name="meeting-refresh"),
    path("meetings/<int:pk>/time-slots/", meetings.meeting_slots, name="meeting-slots"),
    path("meetings/<int:pk>/attendees/new/", meetings.attendee_add, name="attendee-add"),
    path(
        "meetings/<int:pk>/attendees/from-last-meeting/",
        meetings.attendees_from_last,
        name="attendees-from-last",
    ),
    path(
        "meetings/<int:pk>/attendees/<int:attendee_pk>/",
        meetings.attendee_edit,
        name="attendee-edit",
    ),
    path("meetings/<int:pk>/people/<int:item_pk>/", meetings.item_discuss, name="item-discuss"),
    path(
        "meetings/<int:pk>/people/<int:item_pk>/remove/",
        meetings.item_remove,
        name="item-remove",
    ),
    path(
        "meetings/<int:pk>/people/<int:item_pk>/actions/new/",
        meetings.item_action_add,
        name="item-action-add",
    ),
    path("meetings/<int:pk>/held/", meetings.meeting_held, name="meeting-held"),
    path("meetings/<int:pk>/cancel/", meetings.meeting_cancel, name="meeting-cancel"),
    path("meetings/<int:pk>/minutes/", meetings.minutes, name="meeting-minutes"),
    path("people/<int:pk>/add-to-meeting/", meetings.person_agenda_add, name="person-agenda-add"),
    # Actions.
    path("actions/mine/", actions.my_actions, name="my-actions"),
    path("people/<int:pk>/actions/", actions.person_actions, name="person-actions"),
    path("actions/<int:pk>/", actions.action_update, name="action-update"),
    path("actions/<int:pk>/close/", actions.action_close, name="action-close"),
    path("actions/<int:pk>/reopen/", actions.action_reopen, name="action-reopen"),
    # A partner who owns an action without an account: a link sent by the register team.
    path("actions/<int:pk>/link/", links.action_link_send, name="action-link-send"),
    path(
        "actions/<int:pk>/link/withdraw/", links.action_link_withdraw, name="action-link-withdraw"
    ),
    path("your-action/<str:token>/", links.action_link, name="action-link"),
    # C(E)TRs: the register team, and panel members for their own packs.
    path("cetrs/", cetrs.cetr_list, name="cetr-list"),
    path("people/<int:pk>/cetrs/new/", cetrs.cetr_create, name="cetr-create"),
    path("cetrs/<int:pk>/", cetrs.cetr_detail, name="cetr-detail"),
    path("cetrs/<int:pk>/arrangements/", cetrs.cetr_arrange, name="cetr-arrange"),
    path("cetrs/<int:pk>/consent/", cetrs.cetr_consent, name="cetr-consent"),
    path(
        "cetrs/<int:pk>/consent/withdraw/",
        cetrs.cetr_consent_withdraw,
        name="cetr-consent-withdraw",
    ),
    path("cetrs/<int:pk>/panel/new/", cetrs.panel_add, name="panel-add"),
    path("cetrs/<int:pk>/panel/<int:member_pk>/", cetrs.panel_edit, name="panel-edit"),
    path("cetrs/<int:pk>/panel/<int:member_pk>/remove/", cetrs.panel_remove, name="panel-remove"),
    path("cetrs/<int:pk>/findings/", cetrs.cetr_findings, name="cetr-findings"),
    path(
        "cetrs/<int:pk>/recommendations/new/",
        cetrs.recommendation_add,
        name="cetr-recommendation-add",
    ),
    path("cetrs/<int:pk>/complete/", cetrs.cetr_complete, name="cetr-complete"),
    path("cetrs/<int:pk>/report-sent/", cetrs.cetr_report_sent, name="cetr-report-sent"),
    path("cetrs/<int:pk>/cancel/", cetrs.cetr_cancel, name="cetr-cancel"),
    path("cetrs/<int:pk>/pack/", cetrs.cetr_pack, name="cetr-pack"),
    path("panels/", cetrs.my_panels, name="my-panels"),
    path("people/<int:pk>/oversight-visit/", cetrs.visit_add, name="visit-add"),
    path(
        "people/<int:pk>/oversight-visits/<int:visit_pk>/actions/new/",
        cetrs.visit_action_add,
        name="visit-action-add",
    ),
    # C(E)TR requests: a public form, and triage by the register team.
    path("ask-for-a-cetr/", requests.public_request, name="request-public"),
    path("ask-for-a-cetr/sent/", requests.public_confirmation, name="request-confirmation"),
    path("cetr-requests/", requests.request_list, name="request-list"),
    path("cetr-requests/new/", requests.request_create, name="request-create"),
    path("cetr-requests/<int:pk>/", requests.request_detail, name="request-detail"),
]
