"""Writes for referrals: submit, move through the review, decide, and owe everyone the outcome.

Rules enforced here (DOMAIN.md 3 to 5; rules 1 to 3): a decision is due 28 days after receipt
and the clock never pauses; a decision to add or turn down follows a review with education and
social care; every decision, "not eligible" included, writes one outcome message per recipient
into the outbox in the same transaction; a second live referral for the same person is linked
to the first; the same submission sent twice makes one referral.
"""

from dsr.exceptions import RegisterError  # noqa: F401  (raised by every service)
from referrals.services.decisions import (  # noqa: F401
    DECISION_FIELDS,
    OUTCOME_NEXT_STEPS,
    _register_person,  # noqa: F401  (the tests build on it)
    referral_decide,
)
from referrals.services.intake import (  # noqa: F401
    referral_submit,
)
from referrals.services.review import (  # noqa: F401
    InvalidTransition,
    referral_assign,
    referral_contact_add,
    referral_contact_override,
    referral_record_review,
    referral_request_information,
    referral_set_area,
    referral_start_review,
    referral_transition,
)
