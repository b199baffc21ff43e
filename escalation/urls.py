"""Escalation routes: the queue, the summary, an escalation and the moves on it. Every one is
listed in the route matrix (tests/test_route_matrix.py)."""

from django.urls import path

from escalation import views

app_name = "escalation"

urlpatterns = [
    path("escalations/", views.queue, name="queue"),
    path("escalations/summary/", views.summary, name="summary"),
    path("escalations/<int:pk>/", views.detail, name="detail"),
    path("escalations/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path(
        "people/<int:pk>/escalations/acknowledge/",
        views.acknowledge_person,
        name="acknowledge-person",
    ),
    path("escalations/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("escalations/<int:pk>/note/", views.note, name="note"),
    path("people/<int:pk>/escalate/", views.raise_by_hand, name="raise"),
]
