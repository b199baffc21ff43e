"""Report routes. Every one is listed in the route matrix (tests/test_route_matrix.py)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("reports/register/", views.register_snapshot, name="snapshot"),
    path("reports/register/<slug:table>.csv", views.register_snapshot_csv, name="snapshot-csv"),
    path("reports/flows/", views.register_flows, name="flows"),
    path("reports/needs/", views.needs, name="needs"),
    path("reports/needs.csv", views.needs_csv, name="needs-csv"),
    path("reports/flows/<slug:table>.csv", views.register_flows_csv, name="flows-csv"),
]
