"""Report routes. Every one is listed in the route matrix (tests/test_route_matrix.py)."""

from django.urls import path

from dsr.security.access import public
from reports import views
from reports.api import tokens
from reports.api import views as feed

app_name = "reports"


def _feed(view: type) -> object:
    """A read feed endpoint: open to the session gates (there is no session), closed by its
    token (reports.api.auth)."""
    return public(view.as_view())


urlpatterns = [
    path("reports/register/", views.register_snapshot, name="snapshot"),
    path("reports/register/<slug:table>.csv", views.register_snapshot_csv, name="snapshot-csv"),
    path("reports/flows/", views.register_flows, name="flows"),
    path("reports/needs/", views.needs, name="needs"),
    path("reports/needs.csv", views.needs_csv, name="needs-csv"),
    path("reports/flows/<slug:table>.csv", views.register_flows_csv, name="flows-csv"),
    path("reports/planning/", views.planning_figures, name="planning"),
    path(
        "reports/assuring-transformation.csv",
        views.assuring_transformation_csv,
        name="assuring-transformation",
    ),
    path("reports/planning/<slug:table>.csv", views.planning_csv, name="planning-csv"),
    # The read feed for BI tools.
    path("api/v1/register/", _feed(feed.RegisterSnapshot), name="api-register"),
    path("api/v1/flows/", _feed(feed.RegisterFlows), name="api-flows"),
    path("api/v1/needs/", _feed(feed.Needs), name="api-needs"),
    path("api/v1/planning/", _feed(feed.Planning), name="api-planning"),
    path("api/v1/local-authorities/", _feed(feed.LocalAuthorities), name="api-areas"),
    path("api/v1/openapi.json", _feed(feed.Schema), name="api-schema"),
    # Its tokens, for administrators.
    path("access/api-tokens/", tokens.token_list, name="api-tokens"),
    path("access/api-tokens/new/", tokens.token_new, name="api-token-create"),
    path(
        "access/api-tokens/<int:pk>/withdraw/",
        tokens.token_withdraw_page,
        name="api-token-withdraw",
    ),
]
