"""Sections other apps add to the register's pages (the person page, the staff dashboard, each
user's home page), so
the register shows their work without importing them. An app registers a panel in its
AppConfig.ready(); each panel runs a constant number of queries and returns None to show
nothing (for a user whose role does not see it, say)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import HttpRequest

from dsr.models import Person


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any]
    # Where a home-page section goes: the most urgent work first (lower first).
    order: int = 100
    # What a person panel is about, for a page that shows only one of them ("escalations").
    topic: str = ""


PersonPanel = Callable[[HttpRequest, Person, date], Panel | None]
DashboardPanel = Callable[[HttpRequest, date], Panel | None]
HomePanel = Callable[[HttpRequest, date], Panel | None]
_PERSON: list[PersonPanel] = []
_DASHBOARD: list[DashboardPanel] = []
_HOME: list[HomePanel] = []


def register_person_panel(panel: PersonPanel) -> None:
    if panel not in _PERSON:
        _PERSON.append(panel)


def register_dashboard_panel(panel: DashboardPanel) -> None:
    if panel not in _DASHBOARD:
        _DASHBOARD.append(panel)


def register_home_panel(panel: HomePanel) -> None:
    if panel not in _HOME:
        _HOME.append(panel)


def person_panels(request: HttpRequest, person: Person, today: date) -> list[Panel]:
    return [p for p in (panel(request, person, today) for panel in _PERSON) if p is not None]


def dashboard_panels(request: HttpRequest, today: date) -> list[Panel]:
    return [p for p in (panel(request, today) for panel in _DASHBOARD) if p is not None]


def home_panels(request: HttpRequest, today: date) -> list[Panel]:
    """The user's home-page sections, most urgent first (by each panel's order)."""
    found = [p for p in (panel(request, today) for panel in _HOME) if p is not None]
    return sorted(found, key=lambda p: p.order)
