"""What referrals contribute to the register (dsr.contributions; registered in
ReferralsConfig.ready, so the register never imports this app), and the four-week breach it hands
to the escalation rules."""

from dsr.contributions import Contribution
from dsr.navigation import NavItem
from escalation import triggers
from referrals.demo import seed_referrals
from referrals.notifications import SUBJECT, referral_context
from referrals.retention import DECLINED_REFERRALS, person_hold
from referrals.sweeps import REFERRAL_OVERDUE
from referrals.timeline import referral_events

CONTRIBUTION = Contribution(
    timeline=referral_events,
    message_contexts={SUBJECT: referral_context},
    retention_rules=(DECLINED_REFERRALS,),
    person_holds=(person_hold,),
    navigation=(
        NavItem("Referrals", "referrals:queue", ("dsr.manage_referrals",), True, order=40),
        NavItem("My referrals", "referrals:mine", ("dsr.view_own_referrals",), order=130),
    ),
    demo=seed_referrals,
)


def hand_over_to_escalation() -> None:
    """A referral past its four-week deadline is an escalation rule's trigger."""
    triggers.define(REFERRAL_OVERDUE)
