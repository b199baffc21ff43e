from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.deadlines import AgeGroup
from dsr.demo import ACCOUNTS, demo_code
from dsr.models import (
    RAG,
    Admission,
    Consent,
    Notification,
    Person,
    Rating,
    RegisterEntry,
    User,
)
from dsr.roles import Role
from escalation.models import Escalation, EscalationTransition
from referrals.models import Referral
from reviews.models import Action, AgendaItem, Meeting

pytestmark = pytest.mark.django_db


def test_seed_demo_is_refused_when_debug_is_off():
    with pytest.raises(CommandError, match="Demo data is for development only: DEBUG is off."):
        call_command("seed_demo")

    assert not User.objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_creates_accounts_for_every_role_and_a_believable_register(capsys, frozen_now):
    call_command("seed_demo")
    people_after_first_run = Person.objects.count()
    call_command("seed_demo")  # running twice changes nothing

    out = capsys.readouterr().out
    assert User.objects.count() == len(ACCOUNTS) == len(Role)
    assert {user.roles[0] for user in User.objects.all()} == set(Role)
    for account in ACCOUNTS:
        assert account.email in out
        user = User.objects.get(email=account.email)
        assert user.check_password("demo-register-password")
        assert user.organisation.local_authorities.exists()
    device = TOTPDevice.objects.get(user__email="staff@dsr.example")
    assert device.verify_token(demo_code())
    assert User.objects.get(email="admin@dsr.example").is_staff
    assert not User.objects.get(email="staff@dsr.example").is_staff

    # ... and a believable register, which a second run leaves as it is.
    today = timezone.localdate()
    open_entries = RegisterEntry.objects.filter(status="open")
    assert Person.objects.count() == people_after_first_run >= 300
    assert "synthetic people on the register" in out
    assert set(open_entries.values_list("rating", flat=True)) == set(RAG)
    assert {p.age_group(today) for p in Person.objects.all()} == set(AgeGroup)
    assert Person.objects.values("local_authority").distinct().count() == 2
    assert Rating.objects.count() > open_entries.count()  # histories, not single ratings
    assert (
        Admission.objects.filter(discharged_on__isnull=True).count()
        == open_entries.filter(rating="BLUE").count()
    )
    assert Admission.objects.filter(discharged_on__isnull=False).exists()
    _assert_a_year_in_use(today)
    _assert_costs_to_plan_from(today)


def _assert_costs_to_plan_from(today):
    """Placements and costs across the year, in and out of area, in both areas, paid for by
    several funders: enough for the planning figures to show some cost totals and hold back
    others."""
    from dsr.models import Placement
    from reports.planning import committed_spend

    placements = Placement.objects.all()
    costed = placements.filter(weekly_cost__isnull=False)
    assert placements.count() >= 100
    assert {True, False} <= set(placements.values_list("out_of_area", flat=True))
    assert placements.values("placement_type").distinct().count() >= 5
    assert costed.values("person__local_authority").distinct().count() == 2
    assert costed.values("funder").distinct().count() >= 4
    assert placements.filter(ended_on__gte=today - timedelta(days=365)).count() >= 3
    assert Admission.objects.filter(weekly_cost__isnull=False).exists()
    commissioner = User.objects.get(email="commissioner@dsr.example")
    spend = committed_spend(commissioner, today.year, today)
    cells = [cell for _month, row in spend.rows for cell in row]
    assert any(cell.startswith("£") for cell in cells)
    assert "[c]" in cells


def _months(values) -> set[str]:
    return {f"{value:%Y-%m}" for value in values}


def _assert_a_year_in_use(today):
    """The demo reads as a register a team has worked for a year, not one made today."""
    year_ago = today - timedelta(days=365)
    open_entries = RegisterEntry.objects.filter(status="open")

    # Reviews at their cadence: a handful late by more than a month, not dozens.
    month_late = open_entries.filter(rating_review_due__lt=today - timedelta(days=30))
    assert month_late.count() <= 5
    assert open_entries.filter(rating_review_due__gte=today).count() > 0.9 * open_entries.count()
    reviews = Rating.objects.filter(effective_from__gte=year_ago)
    assert len(_months(reviews.values_list("effective_from", flat=True))) >= 12
    assert reviews.count() > 5 * open_entries.count()  # red weekly, amber fortnightly...
    # ... and their rows stamped on the day they were done, not the day the demo was made.
    assert (
        len(_months(timezone.localtime(at) for at in reviews.values_list("set_at", flat=True)))
        >= 12
    )

    # Consent re-checked every year: a handful overdue by more than a month.
    consents = Consent.objects.filter(
        ended_on__isnull=True, person__register_entries__status="open"
    )
    assert consents.filter(review_due__lt=today - timedelta(days=30)).count() <= 5
    assert Consent.objects.filter(end_reason=Consent.EndReason.RENEWED).count() > 100
    assert RegisterEntry.objects.filter(status="closed", closed_on__gte=year_ago).exists()

    # Admissions and discharges through the year, a few still in hospital.
    admissions = Admission.objects.filter(admitted_on__gte=year_ago)
    assert len(_months(admissions.values_list("admitted_on", flat=True))) >= 8
    assert Admission.objects.filter(admitted_on=today).count() <= 1
    assert admissions.filter(discharged_on__isnull=False).count() >= 10
    assert 3 <= Admission.objects.filter(discharged_on__isnull=True).count() <= 25

    # Escalations raised over months, most acknowledged in time and resolved, a few late.
    raised = Escalation.objects.values_list("raised_at", flat=True)
    assert len(_months(timezone.localtime(at) for at in raised)) >= 10
    assert Escalation.objects.filter(raised_at__date=today).count() < 0.1 * len(raised)
    assert Escalation.objects.filter(acknowledged_by__isnull=False).count() >= 50
    assert Escalation.objects.filter(resolved_by__isnull=False).exists()  # by an owner
    assert Escalation.objects.filter(status=Escalation.Status.ACKNOWLEDGED).exists()
    live = Escalation.objects.exclude(status=Escalation.Status.RESOLVED)
    # A queue a team can work, not a flood (escalations whose cause stays are raised again).
    assert 0 < live.count() <= 45
    climbed = EscalationTransition.objects.filter(from_level__lt=F("to_level"))
    assert climbed.exists()  # some were not acknowledged by their deadline
    acknowledged = Escalation.objects.filter(acknowledged_at__isnull=False)
    in_time = [e for e in acknowledged if timezone.localdate(e.acknowledged_at) <= e.ack_due_on]
    assert len(in_time) > 0.6 * acknowledged.count()  # most in time
    # The year walked queued each working day's digests: none is left to send but today's,
    # at most one an owner (a worker started after the load sends no year of summaries).
    waiting = Notification.objects.filter(
        kind="escalation_digest", status=Notification.Status.PENDING
    )
    assert Notification.objects.filter(kind="escalation_digest").count() > 20
    assert not waiting.exclude(subject_id=int(f"{today:%Y%m%d}")).exists()
    assert waiting.values("email").distinct().count() == waiting.count()

    # Meetings through the year; their actions mostly done, a few overdue now.
    assert len(_months(timezone.localtime(m.held_at) for m in Meeting.objects.all())) >= 10
    assert Action.objects.filter(status=Action.Status.DONE).count() >= 50
    # Everyone on a demo meeting's agenda is discussed, so agendas keep a meeting's size
    # instead of growing with everyone carried from every earlier meeting.
    sizes = Meeting.objects.annotate(people=Count("items")).values_list("people", flat=True)
    assert 0 < max(sizes) <= 60, sorted(sizes)
    assert not AgendaItem.objects.filter(discussed_at__isnull=True, meeting__status="held")
    assert 1 <= Action.objects.filter(status=Action.Status.OPEN, due_on__lt=today).count() <= 8

    # Referrals received over the last five weeks, some decided, some still being worked on.
    received = [
        timezone.localdate(at) for at in Referral.objects.values_list("received_at", flat=True)
    ]
    assert min(received) >= today - timedelta(days=35)
    assert len({day.isocalendar()[1] for day in received}) >= 4
    assert Referral.objects.filter(decided_at__isnull=False).exists()
    assert Referral.objects.filter(status__in=["received", "under_review", "more_info"]).exists()


@override_settings(DEBUG=True)
def test_the_demo_team_address_names_the_demo_icb():
    from dsr.demo import seed_demo
    from dsr.models import Organisation
    from dsr.queries import team_contact

    seed_demo()

    icb = Organisation.objects.get(kind=Organisation.Kind.ICB)
    assert team_contact().address.splitlines()[:2] == ["Dynamic support register team", icb.name]
