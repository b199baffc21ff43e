"""The dry run (issue 24, points 3 to 5): every row checked with the register's own validators
and rules, and a plan of what importing it would write.

The checks are the forms' and the services': NHS numbers, postcodes and GP codes through
dsr.nhsuk.validators; names through the form kit's name check; dates of birth through
check_date_of_birth; consent through the consent service's basis-for-age rule; Blue only with an
admission (rule 5). Nothing is invented (rules 1 and 4): a row without a rating, a reason for it
or a consent basis valid for the person's age brings the person in without a register entry
(PERSON_ONLY), and says what is missing as a required next step.

Matching: the same NHS number is the same person; a row matching someone by name and date of
birth where either side has no NHS number (dsr.queries.same_person) is a likely match for the
lead to decide. A row whose every value the register already holds is SAME: importing the same
file twice changes nothing.
"""

import contextlib
import datetime
import functools
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.forms import AdmissionForm
from dsr.imports.mapping import BY_NAME, NO_CONSENT, word
from dsr.imports.parts import import_part, import_parts
from dsr.models import (
    Admission,
    Consent,
    ImportRow,
    Person,
    PersonContact,
    RegisterEntry,
    RegisterImport,
)
from dsr.models.choices import RAG
from dsr.nhsuk.forms import check_date_of_birth
from dsr.nhsuk.validators import (
    normalise_nhs_number,
    normalise_ods_code,
    normalise_postcode,
    refuse_control_characters,
    refuse_non_name_characters,
    validate_nhs_number,
    validate_ods_practice_code,
    validate_one_line,
    validate_postcode,
)
from dsr.queries import responsible_icb_for
from dsr.services.people import consent_basis_check

Outcome = ImportRow.Outcome

# --- Dates as spreadsheets hold them ------------------------------------------------------------

_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 is 1 January 1900 (after Excel's 1900 bug)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_NUMERIC = re.compile(r"(\d{1,4})[/.\-\s](\d{1,2})[/.\-\s](\d{1,4})")
_WORDY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s\-/]+([a-z]+)\.?,?[\s\-/]+(\d{2,4})")
_WORDY_US = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{2,4})")


def _real(year: int, month: int, day: int) -> datetime.date:
    if year < 1000:
        raise ValidationError("The year must include 4 numbers.")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValidationError("The date must be a real date.") from None


def sheet_date(value: Any) -> datetime.date:
    """A date from a cell however the spreadsheet holds it: a date cell, an Excel serial number
    (45778), or text with the day first (01/05/2025, 1.5.2025, 1-5-2025, 1 May 2025,
    1st May 2025, 01-May-2025) or ISO (2025-05-01). Raises ValidationError with the form kit's
    messages; a year of 2 numbers is refused, not guessed."""
    if isinstance(value, dict) and "date" in value:
        return datetime.date.fromisoformat(value["date"])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    text = str(value).strip().casefold()
    text = re.split(r"[ t]\d{1,2}:\d{2}", text)[0].strip()  # a time after the date
    if text.isdigit() and len(text) == 5:
        return _serial(int(text))
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        year, month, day = (int(part) for part in match.groups())
        return _real(year, month, day)
    if match := _NUMERIC.fullmatch(text):
        day, month, year = match.groups()
        if len(day) == 4:  # 2025/05/01
            day, year = year, day
        return _real(int(year), int(month), int(day))
    for pattern, order in ((_WORDY, "dmy"), (_WORDY_US, "mdy")):
        if match := pattern.fullmatch(text):
            parts = dict(zip(order, match.groups(), strict=True))
            month = _MONTHS.get(parts["m"])
            if month is None:
                break
            return _real(int(parts["y"]), month, int(parts["d"]))
    raise ValidationError("The date must be a real date, like 27/03/2008.")


def _serial(number: float) -> datetime.date:
    if not 1 <= number < 2958466:
        raise ValidationError("The date must be a real date, like 27/03/2008.")
    return _EXCEL_EPOCH + datetime.timedelta(days=int(number))


# --- Reading a row ----------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "date" in value:
            return datetime.date.fromisoformat(value["date"]).strftime("%d/%m/%Y")
        if "formula" in value:
            return value["formula"]
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Context:
    """What checking a batch of rows needs, prepared once."""

    register_import: RegisterImport
    la_ids: set[int]
    today: datetime.date
    columns: dict[str, int]
    values: dict[str, dict[str, str]]
    constants: dict[str, str]
    first_row_of: dict[str, int] = field(default_factory=dict)
    icb_for: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, register_import: RegisterImport, la_ids) -> "Context":
        headers = register_import.headers
        columns = {
            name: headers.index(header)
            for name, header in register_import.columns.items()
            if header in headers
        }
        context = cls(
            register_import=register_import,
            la_ids=set(la_ids),
            today=timezone.localdate(),
            columns=columns,
            values=register_import.values,
            constants=register_import.constants,
        )
        for la_id in context.la_ids:
            icb = responsible_icb_for(la_id)
            if icb is not None:
                context.icb_for[la_id] = icb.pk
        return context


class _Row:
    """One row being checked: its cells by field, and the problems found, per cell."""

    def __init__(self, context: Context, row: ImportRow) -> None:
        self.context = context
        self.row = row
        self.problems: list[dict[str, str]] = []
        self.notes: list[str] = []

    def header(self, name: str) -> str:
        index = self.context.columns.get(name)
        if index is None:
            return BY_NAME[name].label
        return str(self.context.register_import.headers[index])

    def raw(self, name: str) -> Any:
        index = self.context.columns.get(name)
        if index is None or index >= len(self.row.raw):
            return None
        return self.row.raw[index]

    def has(self, name: str) -> bool:
        return name in self.context.columns

    def has_problem(self, name: str) -> bool:
        return any(p["field"] == name for p in self.problems)

    def problem(self, name: str, message: str) -> None:
        self.problems.append({"column": self.header(name), "field": name, "message": message})

    def text(self, name: str, *, limit: int = 150, one_line: bool = True) -> str:
        value = self.raw(name)
        if isinstance(value, dict) and "formula" in value:
            self.problem(name, "This cell holds a formula. Type the value itself.")
            return ""
        if isinstance(value, dict) and "too_long" in value:
            self.problem(name, "This cell is too long.")
            return ""
        text = cell_text(value).strip()
        try:
            refuse_control_characters(text)
            if one_line:
                validate_one_line(text)
        except ValidationError as error:
            self.problem(name, error.messages[0])
            return ""
        if len(text) > limit:
            self.problem(name, f"This must be {limit} characters or fewer.")
            return ""
        return text

    def name(self, name: str, *, required: bool = False) -> str:
        text = self.text(name, limit=100)
        if not text:
            if required and not self.has_problem(name):
                self.problem(name, f"Enter the {BY_NAME[name].in_sentence}.")
            return ""
        try:
            refuse_non_name_characters(text)
        except ValidationError as error:
            self.problem(name, error.messages[0])
            return ""
        return text

    def date(self, name: str) -> datetime.date | None:
        value = self.raw(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, dict) and "formula" in value:
            self.problem(name, "This cell holds a formula. Type the date itself.")
            return None
        try:
            return sheet_date(value)
        except ValidationError as error:
            self.problem(name, error.messages[0])
            return None

    def past_date(self, name: str) -> datetime.date | None:
        value = self.date(name)
        if value and value > self.context.today:
            self.problem(name, "The date must be today or in the past.")
            return None
        return value

    def choice(self, name: str) -> str:
        """The register's code for the cell's word, "" for a blank cell (or no column, with no
        choice for the whole file); a word the mapping does not know is a problem."""
        if not self.has(name):
            return self.context.constants.get(name, "")
        value = self.raw(name)
        if isinstance(value, dict) and "formula" in value:
            self.problem(name, "This cell holds a formula. Type the value itself.")
            return ""
        text = cell_text(value).strip()
        if not text:
            return ""
        code = self.context.values.get(name, {}).get(word(text), "")
        if not code:
            self.problem(name, f"“{text[:40]}” is not matched to a {BY_NAME[name].in_sentence}.")
        return code


# --- Checking a row ---------------------------------------------------------------------------


def _identity(r: _Row, fields: dict[str, Any]) -> None:
    nhs = cell_text(r.raw("nhs_number")).strip()
    if nhs:
        try:
            validate_nhs_number(nhs)
            fields["nhs_number"] = normalise_nhs_number(nhs)
        except ValidationError as error:
            r.problem("nhs_number", error.messages[0])
    fields["given_name"] = r.name("given_name", required=True)
    fields["family_name"] = r.name("family_name", required=True)
    born = r.date("date_of_birth")
    if born is None and not r.has_problem("date_of_birth"):
        r.problem("date_of_birth", "Enter the date of birth.")
    elif born is not None:
        try:
            fields["date_of_birth"] = check_date_of_birth(born).isoformat()
        except ValidationError as error:
            r.problem("date_of_birth", error.messages[0])


def _checked(r: _Row, name: str, value: str, validate, normalise) -> str | None:
    if not value:
        return None
    try:
        validate(value)
    except ValidationError as error:
        r.problem(name, error.messages[0])
        return None
    return normalise(value)


def _details(r: _Row, fields: dict[str, Any]) -> None:
    for name in ("sex", "ethnicity"):
        if code := r.choice(name):
            fields[name] = code
    postcode = _checked(
        r, "postcode", r.text("postcode", limit=20), validate_postcode, normalise_postcode
    )
    if postcode:
        fields["postcode"] = postcode
    if address := r.text("address", limit=500, one_line=False):
        fields["address"] = address
    gp = _checked(
        r,
        "gp_practice_code",
        r.text("gp_practice_code", limit=10),
        validate_ods_practice_code,
        normalise_ods_code,
    )
    if gp:
        fields["gp_practice_code"] = gp
    for name in ("has_ehcp", "out_of_area"):
        if r.has(name) and (code := r.choice(name)):
            fields[name] = code == "yes"


def _required_choices(r: _Row, fields: dict[str, Any]) -> None:
    for name in ("local_authority", "diagnosis", "diagnosis_status", "placement_type"):
        code = r.choice(name)
        if code:
            fields[name] = int(code) if name == "local_authority" else code
        elif not r.has_problem(name):
            r.problem(name, f"Enter the {BY_NAME[name].in_sentence}.")
    la = fields.get("local_authority")
    if la is not None and la not in r.context.la_ids:
        r.problem("local_authority", "This local authority is not one of your area's.")


def _person_fields(r: _Row) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    _identity(r, fields)
    _details(r, fields)
    _required_choices(r, fields)
    return fields


def _consent(r: _Row, born: datetime.date | None) -> dict[str, Any] | None:
    basis = r.choice("consent_basis")
    if not basis or basis == NO_CONSENT:
        r.notes.append("Record the person's consent: the sheet gives no consent basis.")
        return None
    given_on = r.past_date("consent_date")
    if given_on is None:
        if not r.has_problem("consent_date"):
            r.notes.append("Record the person's consent: the sheet has no date consent was given.")
        return None
    detail = {
        "decision_maker": r.name("decision_maker"),
        "capacity_assessed_on": r.past_date("capacity_assessed_on"),
    }
    if born is None:
        return None
    try:
        consent_basis_check(Person(date_of_birth=born), basis, given_on, **detail)
    except RegisterError as error:
        # Not valid for the person's age (or incomplete): never replaced by another basis.
        r.notes.append(f"Record the person's consent: {error}")
        return None
    return {
        "basis": basis,
        "given_on": given_on.isoformat(),
        "given_by": r.name("consent_given_by"),
        "decision_maker": detail["decision_maker"],
        "capacity_assessed_on": (
            detail["capacity_assessed_on"].isoformat() if detail["capacity_assessed_on"] else None
        ),
    }


def _admission_field(r: _Row, name: str, form_name: str, value: Any) -> Any:
    """`value` cleaned by the admission form's own field: its checks and its messages."""
    if r.has_problem(name):
        return None  # one reason per cell (a formula, a cell too long)
    try:
        return AdmissionForm.base_fields[form_name].clean(value)
    except ValidationError as error:
        r.problem(name, error.messages[0])
        return None


def _admission(r: _Row) -> dict[str, Any] | None:
    """The admission a blue row brings (rule 5), checked as the admission form checks it; None,
    with the reason per cell, when the sheet lacks any of what the form requires."""
    admitted_on = r.past_date("admitted_on")
    if admitted_on is None:
        if not r.has_problem("admitted_on"):
            r.problem(
                "rating",
                "Blue is only for someone in hospital: the sheet has no date of admission for "
                "this person.",
            )
        return None
    hospital = _admission_field(
        r, "hospital_name", "hospital_name", r.text("hospital_name", limit=150)
    )
    if r.has("hospital_ods_code"):
        ods = _admission_field(
            r, "hospital_ods_code", "hospital_ods_code", r.text("hospital_ods_code", limit=10)
        )
    elif hospital:
        # No column for it: the code the lead gave for this hospital when matching the words.
        ods = r.context.values.get("hospital_ods_code", {}).get(word(hospital), "")
        if not ods:
            r.problem(
                "hospital_ods_code",
                f"Give the ODS code of “{hospital[:40]}” when matching your words.",
            )
    else:
        ods = None
    mha_status = r.text("mha_status", limit=60)
    chosen = {}
    for name, form_name in (
        ("cqc_rating", "cqc_rating"),
        ("ward_security", "ward_security"),
        ("cetr_before_admission", "community_cetr_before_admission"),
    ):
        code = r.choice(name)
        if not r.has_problem(name):
            chosen[name] = _admission_field(r, name, form_name, code)
    if r.problems or not (hospital and ods):
        return None
    return {
        "hospital_name": hospital,
        "hospital_ods_code": ods.upper(),
        "cqc_rating": chosen["cqc_rating"],
        "admitted_on": admitted_on.isoformat(),
        "ward_security": chosen["ward_security"],
        "mha_status": mha_status,
        "community_cetr_before_admission": chosen["cetr_before_admission"],
    }


def _in_hospital(r: _Row, rating: str) -> tuple[bool, dict[str, Any] | None]:
    """Rule 5, Blue exactly while admitted: (whether the rating may come across, the admission
    a blue rating brings, recorded as the admission form records it)."""
    in_hospital = r.choice("in_hospital") == "yes" if r.has("in_hospital") else None
    if rating != RAG.BLUE:
        if in_hospital:
            r.problem("rating", "The sheet says the person is in hospital, so the rating is blue.")
            return False, None
        if cell_text(r.raw("admitted_on")).strip():
            r.notes.append(
                "The sheet gives a date of admission but the rating is not blue: the admission "
                "is not brought across. Record it, and the discharge, on the person's page."
            )
        return True, None
    if in_hospital is False:
        r.problem(
            "rating", "The sheet says the person is not in hospital, so the rating is not blue."
        )
        return False, None
    admission = _admission(r)
    return admission is not None, admission


def _entry(r: _Row, born: datetime.date | None) -> dict[str, Any] | None:
    rating = r.choice("rating")
    rationale = r.text("rationale", limit=5000, one_line=False)
    rated_on = r.past_date("rating_date")
    opened_on = r.past_date("opened_on")
    if not rating:
        if not r.has_problem("rating"):
            r.notes.append("Rate the person: the sheet has no rating.")
        return None
    usable, admission = _in_hospital(r, rating)
    if not usable:
        return None
    if not rationale and admission is None:
        # A blue rating's reason is its admission's, as when recorded on the person's page.
        r.notes.append("Rate the person: the sheet gives no reason for the rating.")
        return None
    rated_on = rated_on or opened_on
    opened_on = opened_on or rated_on
    if rated_on is None:
        r.notes.append("Rate the person: the sheet has no date for the rating.")
        return None
    if born and opened_on < born:
        r.problem("opened_on", "The date added must be after the date of birth.")
        return None
    if rated_on < opened_on:
        r.problem("rating_date", "The rating cannot start before the person was added.")
        return None
    entry = {
        "rating": rating,
        "rationale": rationale,
        "rated_on": rated_on.isoformat(),
        "opened_on": opened_on.isoformat(),
    }
    if admission:
        # Blue from the later of the day they joined and the day they were admitted.
        entry["rated_on"] = max(opened_on.isoformat(), admission["admitted_on"])
        entry["admission"] = admission
    return entry


_CONTACT_ROLES = {
    "key_worker": PersonContact.Role.KEY_WORKER,
    "social_worker": PersonContact.Role.SOCIAL_WORKER,
    "care_coordinator": PersonContact.Role.CARE_COORDINATOR,
    "family_contact": PersonContact.Role.PARENT_CARER,
}


def _contacts(r: _Row) -> list[dict[str, str]]:
    contacts = []
    for name, role in _CONTACT_ROLES.items():
        who = r.name(name)
        if who:
            contacts.append({"role": str(role), "name": who})
    return contacts


def _cetr(r: _Row) -> dict[str, Any] | None:
    """The last C(E)TR and when the next is due, as the register records a C(E)TR held before
    it (the part the reviews app adds: dsr.imports.parts)."""
    held_on = r.past_date("last_cetr")
    next_due = r.date("next_cetr")
    if import_part("cetr") is None:
        # No app records C(E)TRs: the dates are next steps, not lost in silence.
        for name, when in (("last_cetr", held_on), ("next_cetr", next_due)):
            if when:
                r.notes.append(
                    f"{BY_NAME[name].label} {when:%d/%m/%Y} is not brought across: record the "
                    "C(E)TR on the person's page."
                )
        return None
    if held_on and next_due and next_due < held_on:
        r.problem("next_cetr", "The next C(E)TR cannot be due before the last one was held.")
        return None
    if held_on is None:
        if next_due:
            r.notes.append(
                f"{BY_NAME['next_cetr'].label} {next_due:%d/%m/%Y} is not brought across "
                "without the date of the last C(E)TR: plan the C(E)TR on the person's page."
            )
        return None
    return {
        "match": held_on.isoformat(),
        "held_on": held_on.isoformat(),
        "next_due_on": next_due.isoformat() if next_due else None,
    }


@dataclass
class Plan:
    outcome: str
    problems: list[dict[str, str]]
    notes: list[str]
    plan: dict[str, Any]
    person_id: int | None = None
    candidate_id: int | None = None


class Existing:
    """The register's people the rows may be, loaded for a batch of rows at once."""

    def __init__(self, rows: list[ImportRow], context: Context) -> None:
        numbers, births = set(), set()
        for row in rows:
            index = context.columns.get("nhs_number")
            if index is not None and index < len(row.raw):
                numbers.add(normalise_nhs_number(cell_text(row.raw[index]).strip()))
            index = context.columns.get("date_of_birth")
            if index is not None and index < len(row.raw) and row.raw[index] is not None:
                with contextlib.suppress(ValidationError, ValueError):
                    births.add(sheet_date(row.raw[index]))
        people = Person.objects.filter(
            Q(nhs_number__in=numbers - {""}) | Q(date_of_birth__in=births)
        )
        self.by_number = {p.nhs_number: p for p in people if p.nhs_number}
        self.by_birth: dict[datetime.date, list[Person]] = defaultdict(list)
        for person in people:
            self.by_birth[person.date_of_birth].append(person)
        ids = [p.pk for p in people]
        self.consent = {
            c.person_id: c for c in Consent.objects.filter(person_id__in=ids, ended_on__isnull=True)
        }
        self.entry = {
            e.person_id: e
            for e in RegisterEntry.objects.filter(
                person_id__in=ids, status=RegisterEntry.Status.OPEN
            )
        }
        self.contacts: dict[int, set[tuple[str, str]]] = defaultdict(set)
        for contact in PersonContact.objects.filter(person_id__in=ids):
            self.contacts[contact.person_id].add((contact.role, word(contact.name)))
        self.ids = ids
        self._held: dict[str, dict[int, set[str]]] = {}

    # Read only for a batch whose rows need them (a blue row, a C(E)TR): a query each.

    @functools.cached_property
    def in_hospital(self) -> set[int]:
        """The people with an open admission."""
        admitted = Admission.objects.filter(person_id__in=self.ids, discharged_on__isnull=True)
        return set(admitted.values_list("person_id", flat=True))

    def holds(self, key: str, person_id: int, match: str) -> bool:
        """Whether the register holds an app's record (dsr.imports.parts) matching a plan's."""
        if key not in self._held:
            self._held[key] = import_part(key).held(self.ids)
        return match in self._held[key].get(person_id, set())

    def likely(self, fields: dict[str, Any]) -> Person | None:
        """Someone with the same name and date of birth, where either side has no NHS number."""
        born = fields.get("date_of_birth")
        if not born:
            return None
        for person in self.by_birth.get(datetime.date.fromisoformat(born), []):
            same_name = word(person.given_name) == word(fields.get("given_name", "")) and word(
                person.family_name
            ) == word(fields.get("family_name", ""))
            if same_name and (not person.nhs_number or not fields.get("nhs_number")):
                return person
        return None


def _changes(existing: Existing, person: Person, wanted: dict[str, Any]) -> dict[str, Any]:
    """What writing the row to `person` would change: {} when the register holds it all."""
    changes: dict[str, Any] = {}
    differing = {}
    for name, value in wanted["person"].items():
        current = getattr(person, "local_authority_id" if name == "local_authority" else name)
        if isinstance(current, datetime.date):
            current = current.isoformat()
        if current != value and not (name == "nhs_number" and not value):
            differing[name] = value
    if differing:
        changes["person"] = differing
    consent = existing.consent.get(person.pk)
    if wanted["consent"] and consent is None:
        changes["consent"] = wanted["consent"]
    entry = existing.entry.get(person.pk)
    if wanted["entry"] and entry is None and (consent or wanted["consent"]):
        changes["entry"] = wanted["entry"]
    contacts = [
        c
        for c in wanted["contacts"]
        if (c["role"], word(c["name"])) not in existing.contacts.get(person.pk, set())
    ]
    if contacts:
        changes["contacts"] = contacts
    for part in import_parts():
        wanted_part = wanted.get(part.key)
        if wanted_part and not existing.holds(part.key, person.pk, wanted_part["match"]):
            changes[part.key] = wanted_part
    return changes


def _differences_kept(r: _Row, existing: Existing, person: Person, wanted: dict) -> None:
    """A rating or consent the register already holds is never overwritten by a sheet."""
    entry = existing.entry.get(person.pk)
    if wanted["entry"] and entry and entry.rating != wanted["entry"]["rating"]:
        r.notes.append(
            f"The sheet says {wanted['entry']['rating'].lower()}; the register says "
            f"{entry.rating.lower()} and keeps it. Change the rating on the person's page if "
            "the sheet is right."
        )
    consent = existing.consent.get(person.pk)
    if wanted["consent"] and consent and consent.basis != wanted["consent"]["basis"]:
        r.notes.append("The register's consent basis differs from the sheet's and is kept.")
    admission = (wanted["entry"] or {}).get("admission")
    if admission and entry and person.pk not in existing.in_hospital:
        r.notes.append(
            f"The sheet says the person was admitted to {admission['hospital_name']}; the "
            "register has no admission for them. Record it on the person's page."
        )


def _matched(context: Context, r: _Row, existing: Existing, wanted: dict, decision: str) -> Plan:
    """The plan for a valid row: who it is on the register, if anyone, and what changes."""
    fields = wanted["person"]
    number = fields.get("nhs_number")
    person = existing.by_number.get(number) if number else None
    candidate = None if person else existing.likely(fields)
    if candidate is not None and decision == "same":
        person, candidate = candidate, None
    if person is not None and person.local_authority_id not in context.la_ids:
        r.problem("nhs_number", "Someone with this NHS number is recorded in another area.")
        return Plan(Outcome.REFUSED, r.problems, r.notes, {})
    compared = {**wanted, "person": {k: v for k, v in fields.items() if k != "responsible_icb"}}
    if candidate is not None and decision != "different":
        if not _changes(existing, candidate, compared):
            return Plan(Outcome.SAME, [], r.notes, {}, person_id=candidate.pk)
        return Plan(Outcome.LIKELY_MATCH, [], r.notes, {}, candidate_id=candidate.pk)
    if person is None:
        outcome = Outcome.CREATE if wanted["entry"] else Outcome.PERSON_ONLY
        return Plan(outcome, [], r.notes, wanted, candidate_id=candidate.pk if candidate else None)
    _differences_kept(r, existing, person, compared)
    changes = _changes(existing, person, compared)
    if not changes:
        return Plan(Outcome.SAME, [], r.notes, {}, person_id=person.pk)
    return Plan(Outcome.UPDATE, [], r.notes, changes, person_id=person.pk)


def check_row(context: Context, row: ImportRow, existing: Existing, decision: str = "") -> Plan:
    r = _Row(context, row)
    fields = _person_fields(r)
    born = (
        datetime.date.fromisoformat(fields["date_of_birth"]) if "date_of_birth" in fields else None
    )
    consent = _consent(r, born)
    entry = _entry(r, born)
    contacts = _contacts(r)
    cetr = _cetr(r)
    if entry and not consent:
        if "admission" in entry:
            # An admission is recorded for someone on the register: it waits for the consent.
            r.notes.append(
                f"Record the admission to {entry['admission']['hospital_name']} once the "
                "person is on the register: the sheet says they are in hospital."
            )
        entry = None  # rule 1: no register entry without a consent basis
    if not r.problems:
        fields["responsible_icb"] = context.icb_for.get(fields["local_authority"])
        if fields["responsible_icb"] is None:
            r.problem("local_authority", "No ICB covers this local authority.")
    number = fields.get("nhs_number")
    if not r.problems and number:
        first = context.first_row_of.setdefault(number, row.row_number)
        if first != row.row_number:
            r.problem("nhs_number", f"This NHS number is also on row {first}.")
    if r.problems:
        return Plan(Outcome.REFUSED, r.problems, r.notes, {})
    wanted = {
        "person": fields,
        "consent": consent,
        "entry": entry,
        "contacts": contacts,
        "cetr": cetr,
    }
    return _matched(context, r, existing, wanted, decision)


def check_rows(context: Context, rows: list[ImportRow]) -> list[Plan]:
    existing = Existing(rows, context)
    return [check_row(context, row, existing, row.decision) for row in rows]


def store_rows(rows: list[ImportRow], fields: list[str]) -> None:
    """Write `fields` of rows already stored, with one upsert on the row's own key: bulk_update's
    CASE expressions cost more in Python than the whole check of the rows."""
    ImportRow.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["register_import", "row_number"],
        update_fields=fields,
    )


CHECK_BATCH_ROWS = 500


def dry_run(
    register_import: RegisterImport, la_ids, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Check every row, store each row's plan and return the count of each outcome.
    `progress` is told how many rows are checked after each batch of them."""
    context = Context.build(register_import, la_ids)
    rows = list(register_import.rows.order_by("row_number"))
    counts: dict[str, int] = dict.fromkeys(Outcome.values, 0)
    for start in range(0, len(rows), CHECK_BATCH_ROWS):
        batch = rows[start : start + CHECK_BATCH_ROWS]
        for row, plan in zip(batch, check_rows(context, batch), strict=True):
            row.outcome = plan.outcome
            row.problems = plan.problems
            row.notes = plan.notes
            row.plan = plan.plan
            row.person_id = plan.person_id
            row.candidate_id = plan.candidate_id
            counts[plan.outcome] += 1
        store_rows(batch, ["outcome", "problems", "notes", "plan", "person", "candidate"])
        if progress is not None:
            progress(start + len(batch))
    return counts
