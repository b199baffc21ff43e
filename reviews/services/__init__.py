"""Writes for reviews: meetings and their agendas, discussions, actions, C(E)TRs, C(E)TR requests
and oversight visits. Keyword-only arguments, the actor as `by`, one transaction each; refusals
raise RegisterError with a message written for the person using the page.

Rules enforced here (DOMAIN.md section 12): 6 (a community C(E)TR planned for a Red person
satisfies the next step), 7 and 8 (C(E)TR due dates from dsr.deadlines; a post-admission C(E)TR
only when no community one preceded the admission), 9 (no completed C(E)TR without a chair, an
independent clinical expert and an independent expert by experience, every member's conflicts
declared), 10 (notice and pre-read warnings; the pack gate is in reviews.permissions), 11 (every
action has an owner and a due date; reminders before and on the due date), 12 (oversight visits
only for people in hospital out of area), 15 (CETR or CTR from age and EHCP).
"""

from reviews.services.actions import (  # noqa: F401  (the app's writes, in one place)
    DEFAULT_ACTION_REMINDER_DAYS,
    Owner,
    action_change,
    action_close,
    action_create,
    action_reminder_sweep,
    action_reopen,
)
from reviews.services.cetrs import (  # noqa: F401  (the app's writes, in one place)
    FINDINGS,
    NOTICE_DAYS,
    PRE_READ_HOURS,
    cetr_arrange,
    cetr_cancel,
    cetr_complete,
    cetr_consent_record,
    cetr_consent_withdraw,
    cetr_findings_record,
    cetr_plan,
    cetr_report_sent,
    cetr_warnings,
    panel_gaps,
    panel_member_remove,
    panel_member_save,
)
from reviews.services.meetings import (  # noqa: F401  (the app's writes, in one place)
    agenda_add,
    agenda_carry,
    agenda_remove,
    agenda_time_slots,
    attendee_save,
    attendees_from_last,
    discussion_record,
    meeting_agenda_refresh,
    meeting_cancel,
    meeting_create,
    meeting_mark_held,
    meeting_update,
)
from reviews.services.requests import (  # noqa: F401  (the app's writes, in one place)
    cetr_request_arrange,
    cetr_request_decline,
    cetr_request_submit,
)
from reviews.services.visits import (  # noqa: F401  (the app's writes, in one place)
    visit_record,
)
