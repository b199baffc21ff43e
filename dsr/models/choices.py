"""The register's shared choices: diagnoses, the NHS Data Dictionary codes, risk factors, needs
and the RAG-B ratings with their plain meanings."""

from datetime import date

from django.db import models

# Sorts after every real date: an open entry with no review date sorts last.
FAR_FUTURE = date(9999, 12, 31)


class Diagnosis(models.TextChoices):
    LEARNING_DISABILITY = "learning_disability", "Learning disability"
    AUTISM = "autism", "Autism"
    BOTH = "both", "Learning disability and autism"


class DiagnosisStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CLINICALLY_UNDERSTOOD = "clinically_understood", "Clinically understood"
    AWAITING_ASSESSMENT = "awaiting_assessment", "Awaiting assessment"


class Sex(models.TextChoices):
    """NHS Data Dictionary: Person Stated Gender Code."""

    MALE = "1", "Male"
    FEMALE = "2", "Female"
    INDETERMINATE = "9", "Indeterminate (unable to be classified as male or female)"
    NOT_KNOWN = "X", "Not known"


class Ethnicity(models.TextChoices):
    """NHS Data Dictionary: Ethnic Category (2001 census classification)."""

    WHITE_BRITISH = "A", "White: British"
    WHITE_IRISH = "B", "White: Irish"
    WHITE_OTHER = "C", "White: any other White background"
    MIXED_WHITE_BLACK_CARIBBEAN = "D", "Mixed: White and Black Caribbean"
    MIXED_WHITE_BLACK_AFRICAN = "E", "Mixed: White and Black African"
    MIXED_WHITE_ASIAN = "F", "Mixed: White and Asian"
    MIXED_OTHER = "G", "Mixed: any other mixed background"
    ASIAN_INDIAN = "H", "Asian or Asian British: Indian"
    ASIAN_PAKISTANI = "J", "Asian or Asian British: Pakistani"
    ASIAN_BANGLADESHI = "K", "Asian or Asian British: Bangladeshi"
    ASIAN_OTHER = "L", "Asian or Asian British: any other Asian background"
    BLACK_CARIBBEAN = "M", "Black or Black British: Caribbean"
    BLACK_AFRICAN = "N", "Black or Black British: African"
    BLACK_OTHER = "P", "Black or Black British: any other Black background"
    CHINESE = "R", "Other ethnic groups: Chinese"
    OTHER = "S", "Other ethnic groups: any other ethnic group"
    NOT_STATED = "Z", "Not stated"
    NOT_KNOWN = "99", "Not known"


class CoOccurring(models.TextChoices):
    MENTAL_HEALTH = "mental_health", "Mental health condition"
    ADHD = "adhd", "ADHD"
    EPILEPSY = "epilepsy", "Epilepsy"
    PERSONALITY_DISORDER = "personality_disorder", "Personality disorder"
    PSYCHOSIS = "psychosis", "Psychosis"
    PHYSICAL_HEALTH = "physical_health", "Long-term physical health condition"
    SUBSTANCE_USE = "substance_use", "Drug or alcohol use"


class AccessibleFormat(models.TextChoices):
    EASY_READ = "easy_read", "Easy read"
    LARGE_PRINT = "large_print", "Large print"
    BSL = "bsl", "British Sign Language"
    INTERPRETER = "interpreter", "Interpreter"


class PlacementType(models.TextChoices):
    FAMILY_HOME = "family_home", "Family home"
    SUPPORTED_LIVING = "supported_living", "Supported living"
    RESIDENTIAL_CARE = "residential_care", "Residential care"
    RESIDENTIAL_SCHOOL_38 = "residential_school_38", "38-week residential school"
    RESIDENTIAL_SCHOOL_52 = "residential_school_52", "52-week residential school"
    FOSTER_CARE = "foster_care", "Foster care"
    HOSPITAL = "hospital", "Hospital"
    CUSTODY = "custody", "Custody"
    OTHER = "other", "Other"


class Funder(models.TextChoices):
    """Who pays for a placement, care package or hospital stay."""

    ICB = "icb", "Integrated care board"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    JOINT = "joint", "Jointly funded (ICB and local authority)"
    NHS_ENGLAND = "nhs_england", "NHS England specialised commissioning"
    OTHER = "other", "Other"


class RiskFactor(models.TextChoices):
    """The risk factors of DOMAIN.md section 2 (national criteria and local tools)."""

    CRISIS = "crisis", "Person or family in crisis"
    NOT_MANAGED = "not_managed", "Risk is not being, or cannot be, managed in the community"
    MENTAL_HEALTH = "mental_health", "Unstable or untreated mental health condition"
    BEHAVIOUR = "behaviour", "Significant behaviour that challenges"
    ENVIRONMENT = "environment", "Unstable environment or changing staff"
    CRISIS_LAST_MONTH = "crisis_last_month", "A&E or crisis team contact in the last month"
    UNPLANNED_LAST_YEAR = (
        "unplanned_last_year",
        "A&E, crisis team use or unplanned admission in the last year",
    )
    BREAKDOWN = "breakdown", "Risk of family or placement breakdown"
    CRIMINAL_JUSTICE = "criminal_justice", "Contact with the criminal justice system"
    TRANSITION = "transition", "A transition: school, service, home or age"
    SERVICES_EXHAUSTED = "services_exhausted", "Local services exhausted"
    RECENT_DISCHARGE = "recent_discharge", "Recently discharged from hospital"


class Need(models.TextChoices):
    """Unmet needs and barriers, for commissioning (issue "Reports" point 3; DOMAIN 11)."""

    HOUSING = "housing", "Housing"
    RESPITE = "respite", "Short breaks or respite"
    CRISIS = "crisis", "Crisis support"
    WORKFORCE = "workforce", "Staff with the right skills"
    SPECIALIST_PLACEMENT = "specialist_placement", "Specialist placement"
    EDUCATION = "education", "Education placement"
    COMMUNITY_TEAM = "community_team", "Community learning disability or autism team"
    THERAPY = "therapy", "Therapy or positive behaviour support"
    KEY_WORKER = "key_worker", "Key worker capacity"
    OTHER = "other", "Something else"


class RAG(models.TextChoices):
    """RAG-B ratings, in the plain words of the Norfolk and Waveney page (DOMAIN.md section 2)."""

    RED = "RED", "Red"
    AMBER = "AMBER", "Amber"
    GREEN = "GREEN", "Green"
    BLUE = "BLUE", "Blue"


RAG_MEANINGS = {
    RAG.RED: "High risk of going into hospital straight away",
    RAG.AMBER: "High risk if they do not get the right care and treatment soon",
    RAG.GREEN: "Risks managed well at home",
    RAG.BLUE: "Already in hospital",
}
