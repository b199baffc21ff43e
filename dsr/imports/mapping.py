"""Which sheet column is which register field, and what the ICB's own words mean (issue 24,
point 2): suggestions from the headers and the values, the lead's choices saved by name.

A field's column is suggested when a header, tidied (lower case, letters and digits only),
equals one of the field's known headers. A word in a column of choices is suggested when it is
one of the choice's known spellings, its code, or its label; anything else is left for the lead
to choose, and a word left unmatched refuses the rows that hold it (never a guess).
"""

import re
from dataclasses import dataclass
from typing import Any

from dsr.models import (
    RAG,
    Admission,
    Consent,
    Diagnosis,
    DiagnosisStatus,
    Ethnicity,
    PlacementType,
    Sex,
)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    headers: tuple[str, ...]
    # "choice" fields map the sheet's words to codes; "yes_no" too, to "yes" or "no".
    kind: str = "text"
    required: bool = False
    # A field the sheet may lack, which the lead may then set for the whole file (never
    # defaulted by the service).
    constant: bool = False
    # Needed only by rows rated blue (their admission), not by every row.
    for_blue: bool = False

    @property
    def in_sentence(self) -> str:
        """The label within a sentence: "the ward security level", "the NHS number"."""
        label = self.label
        return label if label[:2].isupper() else label[0].lower() + label[1:]


YES_NO = [("yes", "Yes"), ("no", "No")]

FIELDS: tuple[Field, ...] = (
    Field("nhs_number", "NHS number", ("nhsnumber", "nhsno", "nhs", "nhsnum")),
    Field(
        "given_name",
        "First name",
        ("forename", "firstname", "givenname", "forenames", "first"),
        required=True,
    ),
    Field("family_name", "Last name", ("surname", "lastname", "familyname"), required=True),
    Field(
        "date_of_birth",
        "Date of birth",
        ("dob", "dateofbirth", "birthdate", "dateofbirthddmmyyyy"),
        kind="date",
        required=True,
    ),
    Field("sex", "Sex", ("gender", "sex", "gendersex"), kind="choice"),
    Field("ethnicity", "Ethnicity", ("ethnicity", "ethnicgroup", "ethnicorigin"), kind="choice"),
    Field("address", "Address", ("address", "homeaddress")),
    Field("postcode", "Postcode", ("postcode", "postalcode", "pcode")),
    Field(
        "local_authority",
        "Local authority",
        ("localauthority", "la", "council", "localauthorityarea"),
        kind="choice",
        required=True,
        constant=True,
    ),
    Field("gp_practice_code", "GP practice code", ("gppracticecode", "gpcode", "practicecode")),
    Field(
        "diagnosis",
        "Diagnosis",
        ("diagnosis", "primarydiagnosis", "ldautism", "ldorautism"),
        kind="choice",
        required=True,
    ),
    Field(
        "diagnosis_status",
        "Diagnosis status",
        ("diagnosisstatus", "statusofdiagnosis"),
        kind="choice",
        required=True,
        constant=True,
    ),
    Field(
        "placement_type",
        "Placement",
        ("placement", "placementtype", "accommodation", "livingsituation"),
        kind="choice",
        required=True,
        constant=True,
    ),
    Field("has_ehcp", "Has an EHCP", ("ehcp", "hasehcp", "ehcpinplace"), kind="yes_no"),
    Field(
        "out_of_area", "Placed out of area", ("outofarea", "ooa", "placedoutofarea"), kind="yes_no"
    ),
    Field(
        "rating",
        "Rating",
        ("rag", "ragrating", "rating", "ragb", "ragbrating", "riskrating"),
        kind="choice",
    ),
    Field(
        "rating_date",
        "Date of the rating",
        ("raglastreviewed", "ragdate", "ratingdate", "datereviewed", "lastreviewed", "ragreviewed"),
        kind="date",
    ),
    Field(
        "rationale",
        "Reason for the rating",
        ("ragrationale", "rationale", "reasonforrating", "ragreason"),
    ),
    Field(
        "opened_on",
        "Date added to the register",
        ("dateaddedtodsr", "dateadded", "addedtodsr", "dateaddedtoregister", "datejoined"),
        kind="date",
    ),
    Field(
        "consent_basis",
        "Consent basis",
        ("consent", "consentbasis", "consentgiven", "consenttype"),
        kind="choice",
    ),
    Field(
        "consent_date",
        "Date consent was given",
        ("consentdate", "dateofconsent", "consentgivenon"),
        kind="date",
    ),
    Field("consent_given_by", "Who gave consent", ("consentgivenby", "consentby")),
    Field(
        "decision_maker",
        "Best-interests decision maker",
        ("decisionmaker", "bidecisionmaker", "bestinterestsdecisionmaker"),
    ),
    Field(
        "capacity_assessed_on",
        "Date capacity was assessed",
        ("capacityassessed", "capacityassessmentdate", "dateofcapacityassessment"),
        kind="date",
    ),
    Field("key_worker", "Key worker", ("keyworker", "keyworkername")),
    Field("social_worker", "Social worker", ("socialworker", "socialworkername")),
    Field("care_coordinator", "Care coordinator", ("carecoordinator", "carecoordinatorname")),
    Field(
        "family_contact", "Family contact", ("familycontact", "parentcarer", "nextofkin", "family")
    ),
    Field(
        "in_hospital",
        "In hospital now",
        ("currentinpatient", "inpatient", "inhospital", "admitted"),
        kind="yes_no",
    ),
    # The admission a Blue rating needs (rule 5), as the admission form records it. A sheet
    # without a column for the ODS code, CQC rating, ward security or the community C(E)TR before
    # admission leaves them to the lead: the ODS code of each hospital named, the others for the
    # whole file.
    Field("hospital_name", "Hospital", ("hospital", "hospitalname", "currenthospital")),
    Field(
        "hospital_ods_code",
        "Hospital ODS code",
        ("hospitalodscode", "odscode", "hospitalcode", "sitecode", "hospitalsitecode"),
    ),
    Field(
        "admitted_on",
        "Date of admission",
        ("admissiondate", "dateofadmission", "admittedon", "dateadmitted"),
        kind="date",
    ),
    Field(
        "mha_status",
        "Mental Health Act status",
        ("mhastatus", "mentalhealthactstatus", "mhasection", "legalstatus", "mhalegalstatus"),
    ),
    Field(
        "cqc_rating",
        "Hospital's CQC rating",
        ("cqcrating", "cqc", "hospitalcqcrating"),
        kind="choice",
        constant=True,
        for_blue=True,
    ),
    Field(
        "ward_security",
        "Ward security level",
        ("wardsecurity", "wardsecuritylevel", "securitylevel"),
        kind="choice",
        constant=True,
        for_blue=True,
    ),
    Field(
        "cetr_before_admission",
        "Community C(E)TR before admission",
        ("communitycetrbeforeadmission", "cetrbeforeadmission", "precetr", "preadmissioncetr"),
        kind="yes_no",
        constant=True,
        for_blue=True,
    ),
    Field(
        "last_cetr",
        "Last C(E)TR",
        ("lastcetr", "lastctr", "lastcetrdate", "dateoflastcetr", "lastcetrheld"),
        kind="date",
    ),
    Field(
        "next_cetr",
        "Next C(E)TR due",
        ("nextcetrdue", "nextcetr", "nextctrdue", "cetrdue"),
        kind="date",
    ),
)
BY_NAME = {f.name: f for f in FIELDS}


def tidy(text: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").casefold())


def word(value: Any) -> str:
    """A sheet word as a value map keys it: trimmed, spaces squeezed, case-folded."""
    return " ".join(str(value).split()).casefold()


def header_score(cells: list[Any]) -> int:
    """How many cells of a row are known headers: the header row scores highest."""
    known = {h for f in FIELDS for h in f.headers}
    return sum(1 for cell in cells if isinstance(cell, str) and tidy(cell) in known)


def find_header(rows: list[tuple[int, list[Any]]], search: int = 30) -> tuple[int, int]:
    """(index into rows, score) of the header row among the first `search` rows."""
    best = (0, -1)
    for index, (_, cells) in enumerate(rows[:search]):
        score = header_score(cells)
        if score > best[1]:
            best = (index, score)
    return best


def suggest_columns(headers: list[str]) -> dict[str, str]:
    """{field: header} for each field one of whose known headers the sheet has."""
    suggested: dict[str, str] = {}
    taken: set[str] = set()
    for f in FIELDS:
        for header in headers:
            if header and header not in taken and tidy(header) in f.headers:
                suggested[f.name] = header
                taken.add(header)
                break
    return suggested


# --- Choices and the known spellings of each -------------------------------------------------

_SYNONYMS: dict[str, dict[str, str]] = {
    "rating": {
        "r": RAG.RED,
        "red": RAG.RED,
        "rag red": RAG.RED,
        "a": RAG.AMBER,
        "amber": RAG.AMBER,
        "amb": RAG.AMBER,
        "g": RAG.GREEN,
        "green": RAG.GREEN,
        "grn": RAG.GREEN,
        "b": RAG.BLUE,
        "blue": RAG.BLUE,
        "inpatient": RAG.BLUE,
    },
    "sex": {
        "m": Sex.MALE,
        "male": Sex.MALE,
        "f": Sex.FEMALE,
        "female": Sex.FEMALE,
        "not known": Sex.NOT_KNOWN,
        "unknown": Sex.NOT_KNOWN,
    },
    "ethnicity": {
        "white british": "A",
        "white - british": "A",
        "british": "A",
        "white irish": "B",
        "irish": "B",
        "other white": "C",
        "white other": "C",
        "any other white background": "C",
        "asian british - indian": "H",
        "indian": "H",
        "asian british - pakistani": "J",
        "pakistani": "J",
        "asian british - bangladeshi": "K",
        "bangladeshi": "K",
        "black british - caribbean": "M",
        "caribbean": "M",
        "black british - african": "N",
        "african": "N",
        "chinese": "R",
        "not stated": "Z",
        "declined": "Z",
        "not known": "99",
        "unknown": "99",
    },
    "diagnosis": {
        "ld": Diagnosis.LEARNING_DISABILITY,
        "learning disability": Diagnosis.LEARNING_DISABILITY,
        "autism": Diagnosis.AUTISM,
        "asd": Diagnosis.AUTISM,
        "asc": Diagnosis.AUTISM,
        "autistic": Diagnosis.AUTISM,
        "ld & autism": Diagnosis.BOTH,
        "ld and autism": Diagnosis.BOTH,
        "ld/autism": Diagnosis.BOTH,
        "both": Diagnosis.BOTH,
        "ld & asd": Diagnosis.BOTH,
    },
    "diagnosis_status": {
        "confirmed": DiagnosisStatus.CONFIRMED,
        "diagnosed": DiagnosisStatus.CONFIRMED,
        "clinically understood": DiagnosisStatus.CLINICALLY_UNDERSTOOD,
        "awaiting assessment": DiagnosisStatus.AWAITING_ASSESSMENT,
        "awaiting": DiagnosisStatus.AWAITING_ASSESSMENT,
    },
    "placement_type": {
        "independent hospital": PlacementType.HOSPITAL,
        "nhs hospital": PlacementType.HOSPITAL,
        "foster": PlacementType.FOSTER_CARE,
        "family": PlacementType.FAMILY_HOME,
        "at home": PlacementType.FAMILY_HOME,
        "home": PlacementType.FAMILY_HOME,
        "prison": PlacementType.CUSTODY,
    },
    "consent_basis": {
        "yes": Consent.Basis.OWN_CONSENT,
        "y": Consent.Basis.OWN_CONSENT,
        "own consent": Consent.Basis.OWN_CONSENT,
        "self": Consent.Basis.OWN_CONSENT,
        "parent/carer": Consent.Basis.PARENTAL_RESPONSIBILITY,
        "parent": Consent.Basis.PARENTAL_RESPONSIBILITY,
        "parental consent": Consent.Basis.PARENTAL_RESPONSIBILITY,
        "parental responsibility": Consent.Basis.PARENTAL_RESPONSIBILITY,
        "best interests": Consent.Basis.BEST_INTERESTS,
        "bi": Consent.Basis.BEST_INTERESTS,
        "gillick": Consent.Basis.GILLICK,
        "gillick competent": Consent.Basis.GILLICK,
    },
    "cqc_rating": {
        "ri": Admission.CqcRating.REQUIRES_IMPROVEMENT,
        "not rated": Admission.CqcRating.NOT_RATED,
        "unrated": Admission.CqcRating.NOT_RATED,
    },
    "ward_security": {
        "low": Admission.WardSecurity.LOW,
        "medium": Admission.WardSecurity.MEDIUM,
        "high": Admission.WardSecurity.HIGH,
        "open": Admission.WardSecurity.GENERAL,
        "acute": Admission.WardSecurity.GENERAL,
    },
    "yes_no": {
        "y": "yes",
        "yes": "yes",
        "true": "yes",
        "1": "yes",
        "n": "no",
        "no": "no",
        "false": "no",
        "0": "no",
    },
}

# No consent: a word that says so maps to "none" (the row is brought in as a person only).
NO_CONSENT = "none"
_NO_CONSENT_WORDS = {"no", "n", "not given", "declined", "refused", "awaiting", "pending"}


def choices_for(field: Field, local_authorities: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """The register's codes a sheet word can map to, as (code, label)."""
    if field.kind == "yes_no":
        return YES_NO
    return {
        "rating": RAG.choices,
        "sex": Sex.choices,
        "ethnicity": Ethnicity.choices,
        "diagnosis": Diagnosis.choices,
        "diagnosis_status": DiagnosisStatus.choices,
        "placement_type": PlacementType.choices,
        "consent_basis": [*Consent.Basis.choices, (NO_CONSENT, "No consent recorded yet")],
        "cqc_rating": Admission.CqcRating.choices,
        "ward_security": Admission.WardSecurity.choices,
        "local_authority": [(str(pk), name) for pk, name in local_authorities],
    }[field.name]


def suggest_value(field: Field, value: Any, local_authorities: list[tuple[int, str]]) -> str:
    """The code a sheet word most likely means, or "" when there is no safe suggestion."""
    key = word(value)
    if field.name == "consent_basis" and key in _NO_CONSENT_WORDS:
        return NO_CONSENT
    synonyms = _SYNONYMS.get("yes_no" if field.kind == "yes_no" else field.name, {})
    if key in synonyms:
        return str(synonyms[key])
    for code, label in choices_for(field, local_authorities):
        if key in (word(code), word(label)):
            return str(code)
    return ""
