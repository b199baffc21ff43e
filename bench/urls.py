"""The service's routes, and the benchmark's reference pages (bench.views), under bench.settings
only."""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/", views.floor, name="bench-floor"),
    path(
        "bench/register-list-render-floor/",
        views.register_list_render_floor,
        name="bench-register-list-render-floor",
    ),
    path(
        "bench/escalation-queue-render-floor/",
        views.escalation_queue_render_floor,
        name="bench-escalation-queue-render-floor",
    ),
    path("", include("dsr.urls")),
]

handler403 = "dsr.security.errors.forbidden"
handler404 = "dsr.security.errors.not_found"
handler500 = "dsr.security.errors.server_error"
