"""The flows report's review figures (C(E)TRs on time, actions overdue at the end of the period,
key worker coverage) and its open escalations by level and age, against fixtures counted by
hand."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from dsr.models import PersonContact
from dsr.roles import Role
from escalation.models import Escalation, EscalationTransition
from escalation.services import escalation_raise, escalation_resolve
from reports.flows import Period, escalation_table, review_counts, review_figures
from reviews.models import Action, Cetr
from tests.conftest import account

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

LONDON = ZoneInfo("Europe/London")
# The clock reads 10 March 2026, 09:30.
PERIOD = Period(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 28))
FINDINGS = {
    "finding_safe": "Yes.",
    "finding_good_care": "Yes.",
    "finding_future": "A plan is agreed.",
    "finding_community": "Not needed now.",
}


def _cetr(person, clerk, due_on, *, held_on=None, cancelled=False):
    fields = {"status": Cetr.Status.PLANNED}
    if held_on:
        fields = {"status": Cetr.Status.COMPLETED, "held_on": held_on, "completed_by": clerk}
        fields |= FINDINGS
    if cancelled:
        fields = {"status": Cetr.Status.CANCELLED, "cancelled_reason": "Admission avoided."}
    return Cetr.objects.create(
        person=person,
        kind=Cetr.Kind.COMMUNITY,
        education_element=False,
        due_on=due_on,
        created_by=clerk,
        **fields,
    )


def _action(person, cetr, clerk, due_on, *, closed_on=None):
    closed = {}
    if closed_on:
        closed = {"status": Action.Status.DONE, "closed_on": closed_on, "closed_by": clerk}
    return Action.objects.create(
        person=person,
        source=Action.Source.CETR,
        cetr=cetr,
        description="Find a respite placement.",
        owner_name="Named worker",
        agency="health",
        due_on=due_on,
        created_by=clerk,
        **closed,
    )


def test_cetrs_due_in_the_period_and_held_by_their_due_date(make_person, clerk):
    person = make_person("RED")
    d = datetime.date
    _cetr(person, clerk, d(2026, 1, 20), held_on=d(2026, 1, 18))  # due in, on time
    _cetr(person, clerk, d(2026, 2, 1), held_on=d(2026, 2, 1))  # due in, on its due date
    _cetr(person, clerk, d(2026, 2, 10), held_on=d(2026, 2, 12))  # due in, late
    _cetr(person, clerk, d(2026, 2, 20))  # due in, not held: not on time
    _cetr(person, clerk, d(2026, 2, 25), cancelled=True)  # cancelled: not counted
    _cetr(person, clerk, d(2025, 12, 20), held_on=d(2025, 12, 19))  # due before the period
    _cetr(person, clerk, d(2026, 3, 5), held_on=d(2026, 3, 1))  # due after it
    counts = review_counts(clerk, PERIOD)
    # Due in the period, not cancelled: 20 Jan, 1 Feb, 10 Feb, 20 Feb = 4; held by the due
    # date: 20 Jan and 1 Feb = 2.
    assert (counts["cetrs_due"], counts["cetrs_on_time"]) == (4, 2)
    # 4 due is fewer than 8: the share is not shown, and the page says why.
    figure = review_figures(clerk, PERIOD)[0]
    assert figure.text == "Not shown: fewer than 8 C(E)TRs due"


def test_actions_overdue_at_the_end_of_the_period_not_today(make_person, clerk, frozen_now):
    person = make_person("AMBER")
    cetr = _cetr(person, clerk, datetime.date(2026, 1, 20), held_on=datetime.date(2026, 1, 18))
    d = datetime.date
    frozen_now.move_to(datetime.datetime(2026, 2, 1, 9, 0, tzinfo=LONDON))
    _action(person, cetr, clerk, d(2026, 2, 10))  # open, due before the end: overdue
    _action(person, cetr, clerk, d(2026, 2, 10), closed_on=d(2026, 2, 20))  # done by the end
    _action(person, cetr, clerk, d(2026, 2, 10), closed_on=d(2026, 3, 5))  # done after the end
    _action(person, cetr, clerk, d(2026, 2, 28))  # due on the last day: not yet overdue
    _action(person, cetr, clerk, d(2026, 3, 5))  # overdue today (10 March), not at the end
    frozen_now.move_to(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON))
    _action(person, cetr, clerk, d(2026, 2, 15))  # agreed after the period (2 March)
    # Overdue on 28 February: the open one due 10 February and the one closed on 5 March = 2.
    assert review_counts(clerk, PERIOD)["actions_overdue"] == 2
    # Today (10 March) the open one due 5 March is overdue too: a period ending today has 4
    # (due 10 Feb open, 28 Feb open, 5 March open, and the one agreed on 2 March).
    frozen_now.move_to(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=LONDON))
    now = Period(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 10))
    assert review_counts(clerk, now)["actions_overdue"] == 4


def test_key_worker_coverage_for_red_amber_and_blue_people_aged_0_to_25(make_person, admit, clerk):
    d = datetime.date
    covered_red = make_person("RED", date_of_birth=d(2006, 1, 1))  # 20: counted, covered
    make_person("AMBER", date_of_birth=d(2002, 1, 1))  # 24: counted, no key worker
    covered_green = make_person("GREEN", date_of_birth=d(2006, 1, 1))  # Green: not counted
    covered_older = make_person("RED", date_of_birth=d(1990, 1, 1))  # 36: not counted
    covered_blue = make_person("AMBER", date_of_birth=d(2016, 1, 1))  # 10, in hospital (Blue):
    admit(covered_blue, d(2026, 2, 1))  # counted, covered
    for person in (covered_red, covered_green, covered_older, covered_blue):
        PersonContact.objects.create(
            person=person, role=PersonContact.Role.KEY_WORKER, name="Key worker"
        )
    # A parent is not a key worker.
    PersonContact.objects.create(
        person=covered_red, role=PersonContact.Role.PARENT_CARER, name="Parent"
    )
    counts = review_counts(clerk, PERIOD)
    # Red 20, Amber 24, Blue 10 = 3 people; with a key worker: Red 20 and Blue 10 = 2.
    assert (counts["key_worker_people"], counts["key_worker_covered"]) == (3, 2)


def test_escalations_open_at_the_end_of_the_period_by_their_level_and_age_then(
    make_person, clerk, organisations, frozen_now
):
    """February 2026, counted by hand (the clock reads 10 March):
    E1 raised 20 January, moved up to level 2 on 5 February and to 3 on 5 March, still open:
       open at the end of February at level 2, 39 days old (over 28 days).
    E2 raised 25 February, still open: level 1, 3 days old (up to a week).
    E3 raised 10 February, resolved on 20 February: not open at the end.
    E4 raised 15 February, resolved on 5 March: open at the end, level 1, 13 days (8 to 28).
    E5 raised 2 March: not yet raised at the end.
    Open now instead (what the table counted before, whatever the period): E1 at level 3, E2
    and E5, none of them where February has them."""
    lead = account(organisations["icb"], Role.DSR_LEAD)
    person = make_person("RED")

    def at(month: int, day: int) -> datetime.datetime:
        return datetime.datetime(2026, month, day, 10, 0, tzinfo=LONDON)

    def raise_on(number: int, when: datetime.datetime) -> Escalation:
        frozen_now.move_to(when)
        escalation, _ = escalation_raise(
            reason=Escalation.Reason.BY_HAND, trigger_type="test", trigger_id=number, person=person
        )
        return escalation

    def level_up(escalation: Escalation, when: datetime.datetime) -> None:
        escalation.refresh_from_db()
        EscalationTransition.objects.create(
            escalation=escalation,
            from_status=escalation.status,
            to_status=escalation.status,
            from_level=escalation.level,
            to_level=escalation.level + 1,
            at=when,
            reason="Not acknowledged by the deadline.",
        )
        Escalation.objects.filter(pk=escalation.pk).update(level=escalation.level + 1)

    def resolve(escalation: Escalation, when: datetime.datetime) -> None:
        frozen_now.move_to(when)
        escalation_resolve(escalation=escalation, by=lead, outcome="A placement was found.")

    e1 = raise_on(1, at(1, 20))
    level_up(e1, at(2, 5))
    level_up(e1, at(3, 5))
    raise_on(2, at(2, 25))
    resolve(raise_on(3, at(2, 10)), at(2, 20))
    resolve(raise_on(4, at(2, 15)), at(3, 5))
    raise_on(5, at(3, 2))
    frozen_now.move_to(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=LONDON))

    february = Period(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))
    table = escalation_table(clerk, february)
    values = [[cell.value for cell in cells] for _label, cells, _total in table.lines]
    # Columns: up to a week, 8 to 28 days, over 28 days.
    assert values[:3] == [[1, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert all(sum(row) == 0 for row in values[3:])
    assert table.total.value == 3
    # A period that ends today counts what is open now: E1 (level 3, 49 days), E2 (13 days)
    # and E5 (8 days).
    now = Period(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 10))
    values = [[c.value for c in cells] for _l, cells, _t in escalation_table(clerk, now).lines]
    assert values[:3] == [[0, 2, 0], [0, 0, 0], [0, 0, 1]]
    # All small: every count is shown as "<8".
    assert {str(cell) for row in table.cells for cell in row} == {"<8"}
