"""Writes for the register. Every change to people, entries, consent, ratings and admissions goes
through one of these functions: keyword-only arguments, the actor as `by`, one transaction.

Rules enforced here (DOMAIN.md section 12): 1 (no open entry without a consent basis), 4 (one
current rating with a date and rationale; history append-only), 5 (Blue only while admitted;
admission forces Blue; discharge forces a new rating, Red by default), 16 (withdrawal closes the
entry). Each raises RegisterError, whose message is shown to the user as it is.
"""

from dsr.exceptions import RegisterError  # noqa: F401  (raised by every service)
from dsr.services.admissions import (  # noqa: F401  (the register's writes, in one place)
    admission_discharge,
    admission_rca_record,
    admission_record,
    cetr_exception_record,
    placement_end,
    placement_record,
)
from dsr.services.housekeeping import (  # noqa: F401  (the register's writes, in one place)
    heartbeat_record,
    sessions_purge_expired,
)
from dsr.services.people import (  # noqa: F401  (the register's writes, in one place)
    consent_basis_check,
    consent_record,
    consent_withdraw,
    contact_remove,
    contact_save,
    contacts_add,
    keyworker_referral_record,
    needs_note,
    person_create,
    person_update,
)
from dsr.services.register import (  # noqa: F401  (the register's writes, in one place)
    close_entry,
    rating_change,
    register_close,
    register_open,
    write_rating,
)
from dsr.services.team import (  # noqa: F401  (the register's writes, in one place)
    register_settings_save,
    team_contact_save,
)
