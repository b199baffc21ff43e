"""Required next steps for a person, worked out from their rating and circumstances when read.

DOMAIN.md rules 6, 7, 8, 15 and 16, plus the review cadence of section 7:
- Red needs a community C(E)TR or a recorded exception (an urgent LAEP or Blue Light meeting);
- Red or Amber aged 0 to 25 needs a key worker referral, unless a key worker is recorded;
- Blue needs a post-admission C(E)TR by its due date, only when no community C(E)TR happened
  before the admission, and inpatient C(E)TRs on their cadence;
- consent is re-checked on its review date, re-assessed under the Mental Capacity Act at 16, and
  given afresh at 18;
- the rating is reviewed on its cadence.

Nothing here is stored: a step is derived from today's date, so it cannot go stale. Other apps
contribute through `register_source` (the Reviews app reports C(E)TRs it holds, which satisfy
steps here; the Escalation app raises on them) without this module importing them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from dsr import deadlines
from dsr.models import RAG, Admission, CetrException, Consent, Person, RegisterEntry


@dataclass(frozen=True)
class NextStep:
    kind: str
    text: str
    due: date | None = None
    overdue: bool = False


@dataclass
class PersonState:
    """What next steps are worked out from; views build it from rows they already loaded."""

    person: Person
    today: date
    entry: RegisterEntry | None
    consent: Consent | None
    admission: Admission | None
    latest_exception: CetrException | None
    has_key_worker: bool
    # Filled by other apps' sources: the dates of C(E)TRs they know of.
    cetr_dates: dict[str, date] = field(default_factory=dict)


# A source returns extra steps and the kinds of step it satisfies.
Source = Callable[[PersonState], tuple[list[NextStep], set[str]]]
_SOURCES: list[Source] = []


def register_source(source: Source) -> None:
    """Called from another app's AppConfig.ready()."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def _step(kind: str, text: str, due: date | None, today: date) -> NextStep:
    return NextStep(kind=kind, text=text, due=due, overdue=bool(due and due < today))


def cetr_name(person: Person, today: date) -> str:
    """CETR for children, and for young people to 25 with an EHCP (the education element);
    CTR otherwise (DOMAIN rule 15)."""
    age = person.age(today)
    return "CETR" if age < 18 or (person.has_ehcp and age <= 25) else "CTR"


def _rating_steps(state: PersonState) -> list[NextStep]:
    entry, person, today = state.entry, state.person, state.today
    steps = []
    name = cetr_name(person, today)
    if entry.rating == RAG.RED:
        exception = state.latest_exception
        if exception is None or exception.held_on < entry.rating_since:
            steps.append(
                _step(
                    "community_cetr",
                    f"Arrange a community {name}, or record why an urgent LAEP or Blue Light "
                    "meeting was held instead.",
                    None,
                    today,
                )
            )
    needs_key_worker = entry.rating in (RAG.RED, RAG.AMBER) and person.age(today) <= 25
    referred = person.keyworker_referred_on
    referred_now = referred is not None and referred >= entry.opened_on
    if needs_key_worker and not state.has_key_worker and not referred_now:
        steps.append(_step("keyworker_referral", "Refer to the key worker service.", None, today))
    if entry.rating_review_due:
        steps.append(
            _step(
                "rating_review",
                f"Review the {entry.get_rating_display().lower()} rating at a multi-agency "
                "meeting.",
                entry.rating_review_due,
                today,
            )
        )
    return steps


def _admission_steps(state: PersonState) -> list[NextStep]:
    admission, person, today = state.admission, state.person, state.today
    if admission is None:
        return []
    is_child = person.age(admission.admitted_on) < 18
    name = cetr_name(person, today)
    steps = []
    if not admission.community_cetr_before_admission:
        due = deadlines.post_admission_cetr_due(admission.admitted_on, is_child=is_child)
        steps.append(
            _step(
                "post_admission_cetr",
                f"Hold a post-admission {name}: there was no community {name} before the "
                "admission.",
                due,
                today,
            )
        )
    if (
        is_child
        and not admission.community_cetr_before_admission
        and not (admission.rca_completed_on)
    ):
        steps.append(
            _step(
                "root_cause_analysis",
                "Complete a root-cause analysis: a child was admitted without a community CETR.",
                None,
                today,
            )
        )
    last = state.cetr_dates.get("inpatient") or admission.admitted_on
    due = deadlines.inpatient_cetr_next_due(
        last, is_child=person.age(today) < 18, secure=admission.is_secure
    )
    steps.append(_step("inpatient_cetr", f"Hold the next inpatient {name}.", due, today))
    return steps


def _consent_steps(state: PersonState) -> list[NextStep]:
    consent, person, today = state.consent, state.person, state.today
    if consent is None:
        return []
    steps = [_step("consent_review", "Check the person's consent.", consent.review_due, today)]
    sixteenth = deadlines.birthday(person.date_of_birth, 16)
    eighteenth = deadlines.birthday(person.date_of_birth, 18)
    if consent.given_on < sixteenth <= today:
        steps.append(
            _step(
                "consent_at_16",
                "Re-assess consent: at 16 the Mental Capacity Act applies.",
                sixteenth,
                today,
            )
        )
    if consent.given_on < eighteenth <= today:
        steps.append(
            _step(
                "consent_at_18",
                "Transfer to adult services with fresh consent: the person is now 18.",
                eighteenth,
                today,
            )
        )
    return steps


def next_steps_for(state: PersonState) -> list[NextStep]:
    """Every step the person needs now, overdue ones first, then by due date."""
    if state.entry is None or not state.entry.is_open:
        return []
    # Other apps' sources run first: they fill in what they know (the dates of C(E)TRs held)
    # that the register's own steps are worked out from.
    extra: list[NextStep] = []
    satisfied: set[str] = set()
    for source in _SOURCES:
        more, done = source(state)
        extra.extend(more)
        satisfied |= done
    steps = _rating_steps(state) + _admission_steps(state) + _consent_steps(state) + extra
    steps = [step for step in steps if step.kind not in satisfied]
    return sorted(steps, key=lambda s: (not s.overdue, s.due is None, s.due or state.today))
