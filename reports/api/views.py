"""The read feed's endpoints: read-only, token only (reports.api.auth), each call logged.

The answers are the report pages' published tables (reports.published), serialised through
reports.api.serializers, as JSON or, with `?format=csv` (or `Accept: text/csv`), as one long CSV
a spreadsheet or BI tool can load: a line per cell.
"""

import csv
import io
import logging
from typing import Any

from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dsr.queries import local_authorities_for
from dsr.security import ratelimit
from dsr.security.audit import current_request_id
from dsr.security.spreadsheets import neutralise
from reports.api import serializers as out
from reports.api.auth import BearerToken, HoldsToken, token_of
from reports.counting import RETRY_AFTER_SECONDS, CacheDown, NotCounted, queue_count
from reports.disclosure import FOOTNOTE, WITHHELD, WITHHELD_TEXT
from reports.flows import Period
from reports.forms import planning_years
from reports.models import ApiCall
from reports.published import flows_for, needs_for, planning_for, snapshot_for
from reports.queries import SnapshotFilters

logger = logging.getLogger(__name__)

CSV_COLUMNS = ["table", "row", "column", "shown_as", "count"]
# Calls taken per hour from one address with one token: a BI tool refreshing every report of
# every area each hour stays far below this.
CALLS_PER_HOUR = 2_000


class CsvRenderer(BaseRenderer):
    """A line per published cell (and per figure), in the columns of CSV_COLUMNS."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if isinstance(data, dict) and "tables" in data:
            writer.writerow(CSV_COLUMNS)
            for line in _csv_lines(data):
                writer.writerow([neutralise(str(value)) for value in line])
        elif isinstance(data, list):
            writer.writerow(["id", "name"])
            for row in data:
                writer.writerow([row["id"], neutralise(row["name"])])
        else:  # an error: its message
            writer.writerow(["error"])
            writer.writerow([neutralise(str(data.get("detail", data)))])
        return buffer.getvalue().encode(self.charset)


def _number(cell: dict) -> int | str:
    return "" if cell["count"] is None else cell["count"]


def _csv_lines(data: dict) -> list[list[Any]]:
    lines = [
        [figure["group"], figure["label"], "", figure["shown_as"], ""]
        for figure in data.get("figures", [])
    ]
    for part in [*data.get("series", []), *data["tables"]]:
        if part.get("withheld"):
            # A table of which nothing may be shown says so, on a line of its own.
            lines.append([part["slug"], WITHHELD_TEXT, "", WITHHELD, ""])
            continue
        for row in part["rows"]:
            cells = list(zip(part["columns"], row["cells"], strict=True))
            if "total" in row:
                cells.append(("Total", row["total"]))
            lines += [
                [part["slug"], row["label"], column, cell["shown_as"], _number(cell)]
                for column, cell in cells
            ]
    return lines


class BeingCounted(exceptions.APIException):
    """503, with Retry-After: the figures asked for have not been counted yet (their count is
    queued), or the cache where they are kept cannot be reached. Never counted in the call."""

    status_code = 503
    default_code = "being_counted"
    default_detail = (
        "These figures are being counted. This usually takes a few minutes. Try again shortly."
    )

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.wait = RETRY_AFTER_SECONDS  # DRF's exception handler sends it as Retry-After


# The answer header of a 503 (documented in the OpenAPI document).
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    description="Seconds to wait before asking again for figures being counted.",
    response=[503],
)
CACHE_DOWN_DETAIL = "These figures cannot be shown just now. Try again in a few minutes."


def read(report: str, *args: Any) -> Any:
    """`read(report, *days)(read_figures)`: what `read_figures()` returns, or BeingCounted,
    having queued the count of `report` (once however many ask) when it was only not counted
    yet. Nothing is counted in the call."""

    def reading(read_figures: Any) -> Any:
        try:
            return read_figures()
        except CacheDown:
            raise BeingCounted(CACHE_DOWN_DETAIL) from None
        except NotCounted:
            queue_count(report, *[a.isoformat() if hasattr(a, "isoformat") else a for a in args])
            raise BeingCounted from None

    return reading


class FeedView(APIView):
    """A read feed endpoint: a usable token, within the rate limit; the call is logged."""

    authentication_classes = [BearerToken]
    permission_classes = [HoldsToken]
    renderer_classes = [JSONRenderer, CsvRenderer]
    http_method_names = ["get", "head", "options"]

    def check_throttles(self, request: Request) -> None:
        token = token_of(request._request)
        scope = f"api:{token.prefix if token else '-'}"
        if not ratelimit.hit(request._request, scope=scope, limit=CALLS_PER_HOUR):
            raise exceptions.Throttled(wait=ratelimit.HOUR)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, BeingCounted):
            # Expected, not a fault: one line of information rather than Django's error.
            response._has_been_logged = True
            logger.info("report figures not counted yet: %s", self.request.path)
        return response

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        token = token_of(request._request)
        if token is not None:
            ApiCall.objects.create(
                token=token,
                path=request._request.path[:300],
                query=request._request.META.get("QUERY_STRING", "")[:500],
                status=response.status_code,
                request_id=current_request_id(),
            )
        if response.status_code in (401, 403):
            response.dsr_refused = True  # one audit record (RefusalLogMiddleware)
        # Figures for one organisation's areas, or a refusal: kept by no cache on the way.
        add_never_cache_headers(response)
        return response

    def filters(self, serializer_class: type, request: Request) -> Any:
        scope = {la.pk for la in local_authorities_for(request.user)}
        query = serializer_class(data=request.query_params, context={"scope": scope})
        query.is_valid(raise_exception=True)
        return query

    def published(self, counted_at: Any, query: Any, tables: list) -> dict[str, Any]:
        return {
            "counted_at": counted_at,
            "footnote": FOOTNOTE,
            "local_authority": query.validated_data.get("local_authority"),
            "age_group": query.validated_data.get("age_group", ""),
            "tables": [out.table_data(table) for table in tables],
        }


def _answers(ok: Any, *, counted: bool = True) -> dict[int, Any]:
    """What an endpoint answers: its figures, or why not (503 only for counted figures)."""
    problem = OpenApiResponse(out.Problem, "No token, or one withdrawn, expired or not issued.")
    answers = {
        200: ok,
        400: OpenApiResponse(
            OpenApiTypes.OBJECT, "A filter is not valid: its name, with what is wrong with it."
        ),
        401: problem,
        429: OpenApiResponse(out.Problem, "Too many calls in the hour: try again later."),
        503: OpenApiResponse(
            out.Problem,
            "The figures asked for have not been counted yet (their count has been started), "
            "or cannot be read just now: try again after the seconds in the Retry-After header.",
        ),
    }
    if not counted:
        del answers[503]
    return answers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "reports.api.auth.BearerToken"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}


@extend_schema(
    summary="The register on a day",
    description="People on the register on the day, by rating, in tables by age group, local "
    "authority and each recorded detail: the report page's tables as published.",
    parameters=[out.SnapshotQuery, RETRY_AFTER],
    responses=_answers(out.SnapshotOut),
)
class RegisterSnapshot(FeedView):
    def get(self, request: Request) -> Response:
        query = self.filters(out.SnapshotQuery, request)
        data = query.validated_data
        filters = SnapshotFilters(
            on=data.get("on") or timezone.localdate(),
            local_authority=data.get("local_authority"),
            age_group=data.get("age_group", ""),
        )
        tables, counted_at = read("snapshot", filters.on)(
            lambda: snapshot_for(request.user, filters)
        )
        body = {"on": filters.on, **self.published(counted_at, query, tables)}
        return Response(out.SnapshotOut(body).data)


@extend_schema(
    summary="Joining, leaving and moving over a month",
    description="Referrals, step-downs, reviews and admissions over a calendar month that has "
    "ended, with the tables of rating moves, admissions and escalations, as published.",
    parameters=[out.FlowsQuery, RETRY_AFTER],
    responses=_answers(out.FlowsOut),
)
class RegisterFlows(FeedView):
    def get(self, request: Request) -> Response:
        query = self.filters(out.FlowsQuery, request)
        start, end = query.period()
        period = Period(
            start=start,
            end=end,
            local_authority=query.validated_data.get("local_authority"),
            age_group=query.validated_data.get("age_group", ""),
        )
        result, counted_at = read("flows", start, end)(lambda: flows_for(request.user, period))
        groups = [
            ("referrals", result.referrals),
            ("step_down", [result.step_down]),
            ("reviews", result.reviews),
            ("admissions", result.admission_figures),
        ]
        figures = [
            {"group": group, "label": f.label, "shown_as": f.text, "note": f.note}
            for group, items in groups
            for f in items
        ]
        body = {
            "start": start,
            "end": end,
            "figures": figures,
            **self.published(counted_at, query, result.tables),
        }
        return Response(out.FlowsOut(body).data)


@extend_schema(
    summary="Planning figures for a year",
    description="Month-by-month trends, hospital use (admissions, length of stay, bed days), "
    "committed spend by month and area, and placements, as the planning page publishes them: "
    "costs and bed days only under the minimum of contributors and the dominance rule.",
    parameters=[out.PlanningQuery, RETRY_AFTER],
    responses=_answers(out.PlanningOut),
)
class Planning(FeedView):
    def get(self, request: Request) -> Response:
        query = self.filters(out.PlanningQuery, request)
        today = timezone.localdate()
        year = query.validated_data.get("year") or planning_years(today)[0]
        area = query.validated_data.get("local_authority")
        figures, counted_at = read("planning", year, today)(
            lambda: planning_for(request.user, year, today, area)
        )
        tables = [figures.placements] if figures.placements is not None else []
        body = {
            "year": figures.year,
            "months": figures.months,
            "series": [
                out.series_data(s) for s in (figures.trends, figures.hospital, figures.spend)
            ],
            **self.published(counted_at, query, tables),
        }
        return Response(out.PlanningOut(body).data)


@extend_schema(
    summary="Unmet needs and barriers today",
    description="Needs and barriers of the people on the register today, by local authority.",
    parameters=[out.AreaFilter, RETRY_AFTER],
    responses=_answers(out.NeedsOut),
)
class Needs(FeedView):
    def get(self, request: Request) -> Response:
        query = self.filters(out.AreaFilter, request)
        data = query.validated_data
        today = timezone.localdate()
        table, counted_at = read("needs", today)(
            lambda: needs_for(request.user, data.get("local_authority"), data.get("age_group", ""))
        )
        body = {"on": today, **self.published(counted_at, query, [table])}
        return Response(out.NeedsOut(body).data)


@extend_schema(
    summary="The token's local authorities",
    description="The areas the token's figures cover, with the ids the other endpoints take.",
    responses=_answers(out.LocalAuthorityOut(many=True), counted=False),
)
class LocalAuthorities(FeedView):
    def get(self, request: Request) -> Response:
        areas = local_authorities_for(request.user).values("id", "name")
        return Response(out.LocalAuthorityOut(list(areas), many=True).data)


class Schema(FeedView, SpectacularAPIView):
    """The OpenAPI document of the feed (drf-spectacular), to the same token holders."""

    renderer_classes = [OpenApiJsonRenderer]
