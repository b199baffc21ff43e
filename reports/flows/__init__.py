"""Flows over a period (issue "Reports" point 2), each counted by a grouped query in the
database: referrals and decisions, rating transitions, step-downs without admission, admissions
and community C(E)TRs before them, C(E)TRs on time, overdue actions, key worker coverage, and the
escalations open at the end of the period by level and age.

Every count is published through reports.disclosure, for every area and age group at once, so
that no page of the period, beside the others, gives a small count away. Commissioners choose
whole calendar months (reports.forms): two months never share an event, so comparing periods
gives nothing away that either month does not (ADR 0005). Shares are worked out from the
published, rounded counts only; medians only for at least MEDIAN_FROM decisions, in whole days.

`common` holds the period, the figures and the publishing every flow shares; `referrals`,
`ratings`, `admissions`, `reviews` and `escalations` count one flow each; `flows` (here) puts
the page together. Import from here.
"""

from dataclasses import dataclass
from typing import Any

from reports.flows.admissions import admission_table, known_before
from reports.flows.common import (
    AGE,
    AREA,
    NOT_SHOWN_HIDDEN,
    ONE,
    Figure,
    Period,
    age_at,
    share_text,
    whole_days,
)
from reports.flows.escalations import BANDS, escalation_table
from reports.flows.ratings import step_down_count, step_down_figure, transitions_table
from reports.flows.referrals import DECIDED, MEDIAN_FROM, PERCENTILES_SQL, referral_figures
from reports.flows.reviews import review_counts, review_figures
from reports.queries import Table

__all__ = [
    "AGE",
    "AREA",
    "BANDS",
    "DECIDED",
    "FLOW_TABLES",
    "MEDIAN_FROM",
    "NOT_SHOWN_HIDDEN",
    "ONE",
    "PERCENTILES_SQL",
    "Figure",
    "Flows",
    "Period",
    "admission_table",
    "age_at",
    "escalation_table",
    "flows",
    "known_before",
    "referral_figures",
    "review_counts",
    "review_figures",
    "share_text",
    "step_down_count",
    "step_down_figure",
    "transitions_table",
    "whole_days",
]


@dataclass
class Flows:
    period: Period
    referrals: list[Figure]
    step_down: Figure
    reviews: list[Figure]
    admission_figures: list[Figure]
    tables: list[Table]


def flows(user: Any, period: Period) -> Flows:
    admissions, admission_figures = admission_table(user, period)
    return Flows(
        period=period,
        referrals=referral_figures(user, period),
        step_down=step_down_figure(user, period),
        reviews=review_figures(user, period),
        admission_figures=admission_figures,
        tables=[transitions_table(user, period), admissions, escalation_table(user, period)],
    )


FLOW_TABLES = ["transitions", "admissions", "escalations"]
