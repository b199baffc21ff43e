"""The benchmark's reference pages: the floor is a fixed page, and the register list's render
floor is the real list template filled from memory, with no query for its rows; and the runner's
query-count header counts what a request ran."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from bench import views
from bench.middleware import QueryCountMiddleware
from dsr.models import LocalAuthority
from dsr.roles import Role
from tests.conftest import account

pytestmark = pytest.mark.django_db


def test_the_floor_is_a_fixed_page():
    response = views.floor(RequestFactory().get("/bench/floor/"))
    assert response.status_code == 200 and response.content == views.FLOOR


def test_the_render_floor_renders_fifty_rows_of_the_register_list_without_reading_them(
    organisations, django_assert_max_num_queries
):
    request = RequestFactory().get("/bench/register-list-render-floor/")
    request.user = account(organisations["icb"], Role.REGISTER_STAFF)
    request.user.is_verified = lambda: True  # signed in with the second factor
    request.user.has_perm("dsr.view_register")  # the permission cache, as on a real request
    with django_assert_max_num_queries(0):
        response = views.register_list_render_floor(request)
    html = response.content.decode()
    assert response.status_code == 200
    assert sum(f"Given{n} Family{n}</a>" in html for n in range(50)) == 50
    assert "People on the register" in html


def test_the_query_count_header_counts_the_requests_queries():
    def view(request):
        list(LocalAuthority.objects.all())
        list(LocalAuthority.objects.all())
        return HttpResponse("ok")

    response = QueryCountMiddleware(view)(RequestFactory().get("/"))
    assert response["X-DSR-Queries"] == "2"


def test_the_queue_render_floor_renders_the_escalation_queue_without_reading_it(
    organisations, django_assert_max_num_queries
):
    request = RequestFactory().get("/bench/escalation-queue-render-floor/")
    request.user = account(organisations["trust"], Role.SENIOR_MANAGER_HEALTH)
    request.user.is_verified = lambda: True
    request.user.has_perm("dsr.view_escalation_queue")
    with django_assert_max_num_queries(0):
        response = views.escalation_queue_render_floor(request)
    html = response.content.decode()
    assert response.status_code == 200
    assert sum(f"Given{n} Family{n}</a>" in html for n in range(50)) == 50
    assert "Escalation queue" in html and "Acknowledge all 2" in html
