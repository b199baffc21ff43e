"""What reports contribute to the register (dsr.contributions; registered in
ReportsConfig.ready)."""

from datetime import date

from django.http import HttpRequest

from dsr.contributions import Contribution
from dsr.navigation import NavItem
from dsr.panels import Panel
from reports.forms import last_whole_month


def home_panel(request: HttpRequest, today: date) -> Panel | None:
    """A planning commissioner's reports on their home page, each with the date its latest
    figures describe: the register as it is today, and joining and leaving over the last whole
    month (no query: the figures are counted in the background, reports.tasks)."""
    user = request.user
    if not user.has_perm("dsr.view_reports") or user.has_perm("dsr.view_register"):
        return None
    start, end = last_whole_month(today)
    return Panel(
        "reports/includes/home.html", {"today": today, "start": start, "end": end}, order=10
    )


def count_demo_figures() -> int:
    """The demo's report figures, counted once its data is loaded (the last app's seeder), so
    that a commissioner's first visit finds them: the pages never count while a reader waits.
    Counts no demo rows (0)."""
    from reports.tasks import count_report_figures_now

    count_report_figures_now()
    return 0


CONTRIBUTION = Contribution(
    demo=count_demo_figures,
    home_panels=(home_panel,),
    navigation=(
        NavItem("Reports", "reports:snapshot", ("dsr.view_reports",), True, order=100),
        NavItem("BI tokens", "reports:api-tokens", ("dsr.manage_accounts",), True, order=175),
    ),
)
