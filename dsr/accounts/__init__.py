"""Account lifecycle: invitations, switching off unused accounts, and the access review.

- An administrator invites someone by email. The link in the email carries a token made with
  the service's secret key from the invitation's latest send; the database keeps only the
  token's SHA-256 hash, so reading the database alone never gives a working link. Sending again
  makes a new token (the old link then matches nothing); accepting or withdrawing ends it.
- Accepting creates the account with the invitation's roles and organisation and the password
  the invitee chose; they then set up their authenticator app (dsr.views.accounts.setup).
- Every night accounts not signed in to for DSR_ACCOUNT_DORMANT_DAYS are switched off, with the
  reason in their history; switching an account off ends its live sessions, because the
  authentication backend refuses an inactive user on their next request.
- A password reset request does the same work whatever the address typed, so neither its page
  nor its timing tells whether an account exists: it writes a PasswordResetRequest row and,
  after commit, queues a background job with the row's id (never the address). The job finds
  the active account, if any, and queues the outbox message; a sweep does the same for a row
  whose job could not be queued, and deletes handled rows a day later. The link is made when
  the message is sent, so the outbox row holds no working link. An account gets at most
  DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR such messages an hour, however many are asked for.
"""

from dsr.accounts.invitations import (  # noqa: F401
    INVITABLE_ROLES,
    InvitationError,
    get_invitation_by_token,
    invitation_accept,
    invitation_context,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    invitation_token,
    invitations_waiting,
)
from dsr.accounts.lockout import (  # noqa: F401
    lockout_username,
)
from dsr.accounts.password_reset import (  # noqa: F401
    PASSWORD_RESET_KEEP,
    PASSWORD_RESET_SWEEP_AFTER,
    PASSWORD_RESET_SWEEP_BATCH,
    PasswordResetRefused,
    password_reset_account_id,
    password_reset_context,
    password_reset_link_lifetime,
    password_reset_process,
    password_reset_request,
    password_reset_sweep,
)
from dsr.accounts.review import (  # noqa: F401
    SUMMARY_NAMES,
    account_review_list,
    accounts_disable_dormant,
    invitation_state_of,
    last_activity,
)
