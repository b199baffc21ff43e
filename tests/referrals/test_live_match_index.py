"""The look for a live referral of the same person, made on every referral sent
(referrals.services.intake), reads the name and date of birth index for both, not the whole
index for the date alone."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals.models import Referral
from referrals.services.intake import _live_match
from tests.referrals.factories import ReferralFactory


@pytest.mark.django_db
def test_the_look_for_a_live_referral_of_the_same_person_reads_the_name_index(areas):
    # 3,000 live referrals, ten born on each day: enough for the planner to weigh its indexes.
    Referral.objects.bulk_create(
        ReferralFactory.build(
            local_authority=areas["north"],
            date_of_birth=datetime.date(1960, 1, 1) + datetime.timedelta(days=n // 10),
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_referral")
    fields = {
        "nhs_number": "",
        "given_name": "Alexandra",
        "family_name": "Quillfeather",
        "date_of_birth": datetime.date(2004, 2, 14),
    }
    with CaptureQueriesContext(connection) as looked:
        assert _live_match(fields) is None
    (query,) = looked.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {query['sql']}")  # noqa: S608  # nosec B608
        plan = "\n".join(line for (line,) in cursor.fetchall())
    # The name and the date of birth are both index conditions: the index is not read whole.
    assert "referral_upper_name_dob_idx" in plan
    assert "Index Cond: ((upper((family_name)::text)" in plan
