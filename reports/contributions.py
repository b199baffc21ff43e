"""What reports contribute to the register (dsr.contributions; registered in
ReportsConfig.ready)."""

from dsr.contributions import Contribution
from dsr.navigation import NavItem

CONTRIBUTION = Contribution(
    navigation=(NavItem("Reports", "reports:snapshot", ("dsr.view_reports",), True, order=100),),
)
