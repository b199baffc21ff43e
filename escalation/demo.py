"""Demo escalations (registered with dsr.demo; DEBUG only): on each working day of the demo's
year the escalation sweeps run over the register as it stood that evening, and the owners act
on what was raised as a working team would: most acknowledge within their deadline, some miss it
(the ladder moves those up), and they resolve what they have dealt with. So the queue holds
escalations raised over months, acknowledged and resolved ones, and a few past their deadline."""

from dsr.exceptions import RegisterError
from dsr.models import User
from escalation.models import Escalation
from escalation.permissions import can_act
from escalation.services import escalation_acknowledge, escalation_resolve
from escalation.sweeps import escalation_ladder_sweep, escalation_rules_sweep

# The demo accounts that own each level of the ladder (dsr.demo.ACCOUNTS).
OWNERS = {
    1: ("lead@dsr.example",),
    2: ("health.manager@dsr.example", "la.manager@dsr.example"),
    3: ("executive@dsr.example",),
}
# The chance, on a working day, that the owners acknowledge an open escalation at this level
# (most are within their deadline; the executive lead's queue is slower), and that an owner
# resolves an acknowledged one.
ACKNOWLEDGE = {1: 0.55, 2: 0.5, 3: 0.3}
RESOLVE = 0.12
ACKNOWLEDGED_NOTES = [
    "Speaking to the team today.",
    "Asked the care coordinator for an update this week.",
    "Discussed with the social worker; visit booked.",
    "On the agenda for the next multi-agency meeting.",
]
OUTCOMES = [
    "Extra support at home agreed.",
    "Crisis plan updated and shared with the family.",
    "Short break booked; the family are coping better.",
    "Community C(E)TR arranged and the team are following its actions.",
]
# The sweeps run every working day in the last DAILY_WEEKS weeks (the queue as it is now); before
# that, on Mondays and Thursdays only, which keeps the demo quick to load.
DAILY_WEEKS = 8
SWEEP_WEEKDAYS = (0, 3)
_RAISED = {"count": 0}


def _owner(escalation: Escalation, owners: dict[str, User], rng) -> User | None:
    """One of the escalation's owners (a senior manager in its area, at level 2)."""
    emails = OWNERS.get(escalation.level, ())
    for email in rng.sample(emails, len(emails)):
        if can_act(owners[email], escalation):
            return owners[email]
    return None


def escalation_demo_day(moment) -> None:
    """One working day: the owners act in the day on what was raised before it; the sweeps run
    in the evening."""
    rng = moment.rng
    owners = {user.email: user for user in User.objects.filter(email__in=sum(OWNERS.values(), ()))}
    moment.at(11, rng.randint(0, 59))
    for escalation in Escalation.objects.filter(
        status=Escalation.Status.OPEN, raised_at__date__lt=moment.day
    ).order_by("id"):
        if rng.random() >= ACKNOWLEDGE.get(escalation.level, 0.5):
            continue
        owner = _owner(escalation, owners, rng)
        if owner is not None:
            escalation_acknowledge(
                escalation=escalation, by=owner, note=rng.choice(ACKNOWLEDGED_NOTES)
            )
    moment.at(15, rng.randint(0, 59))
    for escalation in Escalation.objects.filter(
        status=Escalation.Status.ACKNOWLEDGED, acknowledged_at__date__lt=moment.day
    ).order_by("id"):
        owner = _owner(escalation, owners, rng) if rng.random() < RESOLVE else None
        if owner is not None:
            try:
                escalation_resolve(escalation=escalation, by=owner, outcome=rng.choice(OUTCOMES))
            except RegisterError:
                continue
    if (moment.today - moment.day).days > DAILY_WEEKS * 7 and (
        moment.day.weekday() not in SWEEP_WEEKDAYS
    ):
        return
    moment.at(18, 30)
    _RAISED["count"] += sum(escalation_rules_sweep().values())
    escalation_ladder_sweep()


def seed_escalations() -> int:
    """The escalations were raised through the demo's year (each_day, above): the number raised
    since the last call."""
    raised, _RAISED["count"] = _RAISED["count"], 0
    return raised


seed_escalations.each_day = escalation_demo_day  # type: ignore[attr-defined]
